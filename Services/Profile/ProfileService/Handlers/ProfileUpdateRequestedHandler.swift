import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `ProfileUpdateRequested` → validated, stored with `ProfileUpdated` in the outbox, and
/// answered with `ProfileUpdated`, or with the fields that are wrong (nothing is stored).
///
/// Idempotent under the request's id: the runtime answers a redelivered request with the
/// answer it kept, and does not run this again.
struct ProfileUpdateRequestedHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<ProfileUpdateRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<ProfileUpdated, RequestFailed> {
        let time = now()
        let valid: ValidProfile
        switch ProfileValidation.validate(request.data, today: time) {
        case .failure(let failure): return .failure(failure)
        case .success(let profile): valid = profile
        }
        guard
            let (profile, sequence) = try ProfileStore.replace(
                userID: request.data.userId, with: valid, at: time, on: database)
        else {
            return .failure(RequestFailed(code: .notFound, detail: "this user has no profile yet"))
        }
        let updated = ProfileUpdated(profile: profile, sequence: sequence)
        try Outbox.append(
            Envelope(causedBy: request, source: .profile, time: time, subject: request.subject, data: updated),
            on: database)
        return .success(updated)
    }
}
