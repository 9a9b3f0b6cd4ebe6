import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserSuspended` → the account can no longer sign in, its refresh tokens are revoked,
/// and its live streams on this instance end (those on other instances end at their next
/// heartbeat, when they find the account closed). Access tokens already issued stay valid
/// until they expire (15 minutes).
struct UserSuspendedHandler: EventHandler {
    let hub: LiveEventHub
    let pool: DatabasePool
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserSuspended>, context: MessageContext, database: DatabaseConnection) throws {
        try AccountStore.suspend(
            userID: event.data.userId, sequence: event.data.sequence, at: now(), on: database)
    }

    /// Streams end only once the suspension is committed (a rolled-back one leaves them
    /// open), and only if the account is closed now: a suspension older than a
    /// reinstatement already applied changed nothing.
    func committed(_ event: Envelope<UserSuspended>, context: MessageContext) async {
        await AccountClosure.endStreamsIfClosed(event.data.userId, hub: hub, pool: pool)
    }
}
