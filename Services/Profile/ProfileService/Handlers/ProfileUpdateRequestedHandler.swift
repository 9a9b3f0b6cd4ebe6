import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `ProfileUpdateRequested` (`PUT` or `PATCH`) → validated against the current profile
/// (`ProfileEditing`), stored with `ProfileUpdated` in the outbox, and answered with
/// `ProfileUpdated`, or with the fields that are wrong (nothing is stored).
///
/// Idempotent under the request's id: the runtime answers a redelivered request with the
/// answer it kept, and does not run this again.
struct ProfileUpdateRequestedHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<ProfileUpdateRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<ProfileUpdated, RequestFailed> {
        let time = now()
        guard let current = try ProfileStore.lock(userID: request.data.userId, on: database) else {
            return .failure(.noProfile)
        }
        let edited: ProfileRecord
        switch ProfileEditing.apply(request.data, to: current, today: time) {
        case .failure(let failure): return .failure(failure)
        case .success(let profile): edited = profile
        }
        guard let stored = try ProfileStore.saveEdits(edited, at: time, on: database) else {
            return .failure(.noProfile)
        }
        return .success(try ProfileChanges.published(stored, causedBy: request, at: time, on: database))
    }
}
