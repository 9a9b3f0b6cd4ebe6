import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime

/// `UserRegistered` → an empty profile and `ProfileCreated`, once per user.
struct UserRegisteredHandler: Sendable {
    let runtime: KindredRuntime
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserRegistered>, _ delivery: Delivery) async throws {
        let time = now()
        try await runtime.handleOnce(delivery, header: event.header) { connection in
            guard try ProfileStore.createEmpty(userID: event.data.userId, at: time, on: connection) else { return }
            let created = Envelope(
                causedBy: event, source: .profile, time: time, subject: event.subject,
                data: ProfileCreated(userId: event.data.userId, sequence: 1))
            try Outbox.append(created, on: connection)
        }
    }
}
