import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserUnblocked` (from matching) → the block no longer hides the two from each other.
struct UserUnblockedHandler: EventHandler {
    func handle(_ event: Envelope<UserUnblocked>, context: MessageContext, database: DatabaseConnection) throws {
        try BlockStore.unblock(event.data.blockerId, event.data.blockedId, on: database)
    }
}
