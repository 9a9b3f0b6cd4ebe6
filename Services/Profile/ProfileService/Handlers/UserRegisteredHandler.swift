import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime

/// `UserRegistered` or `GuestRegistered` → the new user's profile and `ProfileCreated`,
/// once per user.
struct UserRegisteredHandler: Sendable {
    let runtime: KindredRuntime
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserRegistered>, _ delivery: Delivery) async throws {
        try await create(event.data.userId, displayName: nil, causedBy: event, delivery)
    }

    func handle(_ event: Envelope<GuestRegistered>, _ delivery: Delivery) async throws {
        try await create(event.data.userId, displayName: event.data.displayName, causedBy: event, delivery)
    }

    private func create<Cause: Event>(
        _ userID: UUID, displayName: String?, causedBy event: Envelope<Cause>, _ delivery: Delivery
    ) async throws {
        let time = now()
        try await runtime.handleOnce(delivery, header: event.header) { connection in
            guard try ProfileStore.create(userID: userID, displayName: displayName, at: time, on: connection)
            else { return }
            let created = Envelope(
                causedBy: event, source: .profile, time: time, subject: event.subject,
                data: ProfileCreated(userId: userID, sequence: 1))
            try Outbox.append(created, on: connection)
        }
    }
}
