import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserBlocked` (from matching) → neither of the two is shown the other's profile. A block
/// older than the pair's last change is ignored, and so is one that names a user who has
/// no profile (deleted: nothing of them is kept again).
struct UserBlockedHandler: EventHandler {
    func handle(_ event: Envelope<UserBlocked>, context: MessageContext, database: DatabaseConnection) throws {
        let (blocker, blocked) = (event.data.blockerId, event.data.blockedId)
        guard try ProfileStore.bothExist(blocker, blocked, on: database) else { return }
        try BlockStore.set(blocker, blocked, blocked: true, at: event.data.blockedAt, on: database)
    }
}
