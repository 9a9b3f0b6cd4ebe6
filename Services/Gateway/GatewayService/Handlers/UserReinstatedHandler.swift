import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserReinstated` → the account may sign in again (unless a later suspension or ban
/// arrived first: the moderation sequence decides).
struct UserReinstatedHandler: EventHandler {
    func handle(_ event: Envelope<UserReinstated>, context: MessageContext, database: DatabaseConnection) throws {
        try AccountStore.reinstate(userID: event.data.userId, sequence: event.data.sequence, on: database)
    }
}
