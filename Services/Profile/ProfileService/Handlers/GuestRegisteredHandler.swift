import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `GuestRegistered` → the guest's profile, with the display name they chose, and
/// `ProfileCreated`, once per user.
struct GuestRegisteredHandler: EventHandler {
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<GuestRegistered>, context: MessageContext, database: DatabaseConnection) throws {
        try ProfileCreation.create(
            event.data.userId, displayName: event.data.displayName, causedBy: event, at: now(), on: database)
    }
}
