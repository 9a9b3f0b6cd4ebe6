import Contracts
import Foundation
import Messaging
import ServiceRuntime

/// `UserSuspended` → the account can no longer sign in, and its refresh tokens are
/// revoked. Access tokens already issued stay valid until they expire (15 minutes).
struct UserSuspendedHandler: Sendable {
    let runtime: KindredRuntime
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserSuspended>, _ delivery: Delivery) async throws {
        let time = now()
        try await runtime.handleOnce(delivery, header: event.header) { connection in
            try AccountStore.suspend(userID: event.data.userId, at: time, on: connection)
        }
    }
}
