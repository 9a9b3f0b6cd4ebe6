import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// What registering a user or a guest does: creates the empty profile and says so with
/// `ProfileCreated`, once per user whatever event announced them.
enum ProfileCreation {
    static func create<Cause: Event>(
        _ userID: UUID, displayName: String?, causedBy event: Envelope<Cause>, at time: Date,
        on database: DatabaseConnection
    ) throws {
        guard try ProfileStore.create(userID: userID, displayName: displayName, at: time, on: database) else { return }
        let created = Envelope(
            causedBy: event, source: .profile, time: time, subject: event.subject,
            data: ProfileCreated(userId: userID, sequence: 1))
        try Outbox.append(created, on: database)
    }
}
