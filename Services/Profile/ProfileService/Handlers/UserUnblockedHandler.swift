import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserUnblocked` (from matching) → the block no longer hides the two from each other,
/// unless a later block of the pair was applied already.
struct UserUnblockedHandler: EventHandler {
    func handle(_ event: Envelope<UserUnblocked>, context: MessageContext, database: DatabaseConnection) throws {
        let (blocker, blocked) = (event.data.blockerId, event.data.blockedId)
        guard try ProfileStore.bothExist(blocker, blocked, on: database) else { return }
        try BlockStore.set(blocker, blocked, blocked: false, at: event.data.unblockedAt, on: database)
    }
}
