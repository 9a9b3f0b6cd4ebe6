import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserBlocked` (from matching) → neither of the two is shown the other's profile.
struct UserBlockedHandler: EventHandler {
    func handle(_ event: Envelope<UserBlocked>, context: MessageContext, database: DatabaseConnection) throws {
        try BlockStore.block(event.data.blockerId, event.data.blockedId, at: event.data.blockedAt, on: database)
    }
}
