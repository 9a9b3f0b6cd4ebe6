import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserBanned` → as `UserSuspended`, for good: the account can no longer sign in, its
/// refresh tokens are revoked and its live streams on this instance end.
struct UserBannedHandler: EventHandler {
    let hub: LiveEventHub
    let pool: DatabasePool
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserBanned>, context: MessageContext, database: DatabaseConnection) throws {
        try AccountStore.suspend(
            userID: event.data.userId, banned: true, sequence: event.data.sequence, at: now(), on: database)
    }

    /// As for `UserSuspended`: only once committed, and only if the account is closed now.
    func committed(_ event: Envelope<UserBanned>, context: MessageContext) async {
        await AccountClosure.endStreamsIfClosed(event.data.userId, hub: hub, pool: pool)
    }
}
