import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime

/// `AccountDeletionRequested` → the profile is erased and `UserDataErased` says so.
struct AccountDeletionRequestedHandler: Sendable {
    let runtime: KindredRuntime
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<AccountDeletionRequested>, _ delivery: Delivery) async throws {
        let time = now()
        try await runtime.handleOnce(delivery, header: event.header) { connection in
            try ProfileStore.erase(userID: event.data.userId, on: connection)
            let erased = Envelope(
                causedBy: event, source: .profile, time: time, subject: event.subject,
                data: UserDataErased(userId: event.data.userId, operationId: event.data.operationId, service: .profile))
            try Outbox.append(erased, on: connection)
        }
    }
}
