import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `AccountDeletionRequested` → the profile is erased and `UserDataErased` says so.
struct AccountDeletionRequestedHandler: EventHandler {
    let now: @Sendable () -> Date

    func handle(
        _ event: Envelope<AccountDeletionRequested>, context: MessageContext, database: DatabaseConnection
    ) throws {
        try ProfileStore.erase(userID: event.data.userId, on: database)
        let erased = Envelope(
            causedBy: event, source: .profile, time: now(), subject: event.subject,
            data: UserDataErased(userId: event.data.userId, operationId: event.data.operationId, service: .profile))
        try Outbox.append(erased, on: database)
    }
}
