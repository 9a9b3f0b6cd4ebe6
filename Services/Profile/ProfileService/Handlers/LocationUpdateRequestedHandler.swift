import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `LocationUpdateRequested` → the profile moves to the cell (`LocationPolicy`: at most
/// one change a minute, an implausible jump stored but flagged), `LocationChanged` and
/// `ProfileUpdated` are published, and `LocationChanged` answers; too soon is
/// `RequestFailed(tooManyRequests)` with the seconds to wait.
struct LocationUpdateRequestedHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<LocationUpdateRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<LocationChanged, RequestFailed> {
        let (userID, cell) = (request.data.userId, request.data.cell)
        guard cell.isValid else {
            return .failure(
                RequestFailed(
                    code: .validationFailed, detail: "not a cell of the grid",
                    fieldErrors: [FieldError(field: "cell", message: "is not a cell of the location grid")]))
        }
        let time = now()
        guard let current = try ProfileStore.lock(userID: userID, on: database) else {
            return .failure(.noProfile)
        }
        let previous = current.cell.flatMap { cell in current.locationUpdatedAt.map { (cell, $0) } }
        switch LocationPolicy.decide(from: previous, to: cell, at: time) {
        case .tooSoon(let seconds):
            return .failure(
                RequestFailed(
                    code: .tooManyRequests, detail: "the location changes at most once a minute",
                    retryAfterSeconds: seconds))
        case .accepted(let implausibleJump):
            guard
                let moved = try ProfileStore.moveTo(
                    cell, userID: userID, implausibleJump: implausibleJump, at: time, on: database)
            else { return .failure(.noProfile) }
            let changed = LocationChanged(
                userId: userID, cell: cell, changedAt: time, implausibleJump: implausibleJump, sequence: moved.sequence)
            try Outbox.append(
                Envelope(causedBy: request, source: .profile, time: time, subject: userID.uuidString, data: changed),
                on: database)
            _ = try ProfileChanges.published(moved, causedBy: request, at: time, on: database)
            return .success(changed)
        }
    }
}
