import Foundation
import Persistence

/// The SQL of `blocks`, the projection of matching's `UserBlocked` and `UserUnblocked`.
enum BlockStore {
    /// Records a block (`blocked`) or an unblock of the pair at `time`, unless a later one
    /// was recorded already: events that arrive out of order end as the last one says.
    static func set(
        _ blocker: UUID, _ blocked: UUID, blocked isBlocked: Bool, at time: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            prepared: """
                INSERT INTO blocks (blocker_id, blocked_id, blocked, changed_at) VALUES ($1, $2, $3::boolean, $4)
                ON CONFLICT (blocker_id, blocked_id) DO UPDATE SET blocked = excluded.blocked,
                    changed_at = excluded.changed_at
                WHERE blocks.changed_at < excluded.changed_at
                """, [blocker, blocked, isBlocked, time])
    }

    /// Whether either of the two blocked the other.
    static func eitherBlocked(_ a: UUID, _ b: UUID, on connection: DatabaseConnection) throws -> Bool {
        try connection.execute(
            prepared: """
                SELECT 1 AS found FROM blocks
                WHERE blocked AND ((blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1))
                LIMIT 1
                """, [a, b]
        ).first != nil
    }

    static func erase(userID: UUID, on connection: DatabaseConnection) throws {
        try connection.execute(
            prepared: "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1", [userID])
    }
}
