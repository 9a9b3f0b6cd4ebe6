import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserRegistered` → the new user's empty profile and `ProfileCreated`, once per user.
struct UserRegisteredHandler: EventHandler {
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserRegistered>, context: MessageContext, database: DatabaseConnection) throws {
        try ProfileCreation.create(event.data.userId, displayName: nil, causedBy: event, at: now(), on: database)
    }
}
