import Foundation
import Persistence

/// The SQL of `live_events`, the replay window of the live streams.
enum LiveEventStore {
    /// Keeps one event; a second instance keeping the same event changes nothing.
    static func keep(_ event: LiveEvent, on connection: DatabaseConnection) throws {
        try connection.execute(
            prepared: """
                INSERT INTO live_events (event_id, user_id, event_type, data) VALUES ($1, $2, $3, $4)
                ON CONFLICT (event_id) DO NOTHING
                """, [event.id, event.userID, event.type, event.data])
    }

    /// `user`'s kept events after `lastEventID` (all that are kept if that id is unknown or
    /// expired), oldest first, at most 1000.
    static func events(of user: UUID, after lastEventID: UUID?, on connection: DatabaseConnection) throws
        -> [LiveEvent]
    {
        try connection.execute(
            """
            SELECT event_id, event_type, data FROM live_events
            WHERE user_id = $1
              AND position > COALESCE((SELECT position FROM live_events WHERE event_id = $2 AND user_id = $1), 0)
            ORDER BY position LIMIT 1000
            """, [user, lastEventID]
        ).rows.compactMap { row in
            guard let id = row.uuid("event_id"), let type = row.string("event_type"), let data = row.string("data")
            else { return nil }
            return LiveEvent(id: id.uuidString, type: type, userID: user, data: data)
        }
    }
}
