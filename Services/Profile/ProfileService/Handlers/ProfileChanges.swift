import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// What every change to a profile publishes: `ProfileUpdated` with the whole new state,
/// the snapshot matching keeps, in the same transaction as the change.
enum ProfileChanges {
    static func published<Cause: Event>(
        _ profile: ProfileRecord, causedBy cause: Envelope<Cause>, at time: Date, on database: DatabaseConnection
    ) throws -> ProfileUpdated {
        let updated = ProfileUpdated(profile: profile.document, sequence: profile.sequence)
        try Outbox.append(
            Envelope(causedBy: cause, source: .profile, time: time, subject: profile.userID.uuidString, data: updated),
            on: database)
        return updated
    }

    /// Moves a user to a moderation state and says so: `UserSuspended`, `UserBanned` or
    /// `UserReinstated` (the gateway enforces them) as the state calls for, then
    /// `ProfileUpdated` (discovery follows `discoverable`). Nothing happens if the state is unchanged.
    static func moderate<Cause: Event>(
        _ userID: UUID, to state: ModerationState, reason: String, causedBy cause: Envelope<Cause>, at time: Date,
        on database: DatabaseConnection
    ) throws {
        guard let current = try ProfileStore.lock(userID: userID, on: database), current.moderation != state,
            let moved = try ProfileStore.setModeration(state, userID: userID, at: time, on: database)
        else { return }
        func publish<E: Event>(_ data: E) throws {
            try Outbox.append(
                Envelope(causedBy: cause, source: .profile, time: time, subject: userID.uuidString, data: data),
                on: database)
        }
        let sequence = moved.moderationSequence
        switch (current.moderation, state) {
        case (_, .suspended): try publish(UserSuspended(userId: userID, reason: reason, sequence: sequence))
        case (_, .banned): try publish(UserBanned(userId: userID, reason: reason, sequence: sequence))
        case (.suspended, .none), (.banned, .none), (.suspended, .held), (.banned, .held):
            try publish(UserReinstated(userId: userID, sequence: sequence))
        default:
            break  // a review hold only hides from discovery: ProfileUpdated says so
        }
        _ = try published(moved, causedBy: cause, at: time, on: database)
    }
}
