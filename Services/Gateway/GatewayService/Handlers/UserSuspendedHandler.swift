import Contracts
import Foundation
import Messaging
import ServiceRuntime

/// `UserSuspended` → the account can no longer sign in, its refresh tokens are revoked,
/// and its live streams on this instance end (those on other instances end at their next
/// heartbeat, when they find the account closed). Access tokens already issued stay valid
/// until they expire (15 minutes).
struct UserSuspendedHandler: Sendable {
    let runtime: KindredRuntime
    let hub: LiveEventHub
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserSuspended>, _ delivery: Delivery) async throws {
        let time = now()
        try await runtime.handleOnce(delivery, header: event.header) { connection in
            try AccountStore.suspend(userID: event.data.userId, at: time, on: connection)
        }
        hub.disconnect(event.data.userId, reason: .accountClosed)
    }
}
