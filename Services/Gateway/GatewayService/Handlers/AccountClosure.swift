import Foundation
import Persistence

/// What a suspension or ban does after its commit: the user's live streams on this
/// instance end, if the account is closed now (a late suspension that an applied
/// reinstatement outranked changed nothing, and must not cut a reinstated user off).
enum AccountClosure {
    static func endStreamsIfClosed(_ userID: UUID, hub: LiveEventHub, pool: DatabasePool) async {
        let closed = try? await pool.withConnection { try AccountStore.find(userID: userID, on: $0)?.isBlocked }
        // If the database cannot say, the streams end: they find the account closed or not
        // at their next heartbeat and come back.
        if closed != false { hub.disconnect(userID, reason: .accountClosed) }
    }
}
