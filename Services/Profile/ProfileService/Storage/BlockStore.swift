import Foundation
import Persistence

/// The SQL of `blocks`, the projection of matching's `UserBlocked` and `UserUnblocked`.
enum BlockStore {
    static func block(_ blocker: UUID, _ blocked: UUID, at time: Date, on connection: DatabaseConnection) throws {
        try connection.execute(
            prepared: """
                INSERT INTO blocks (blocker_id, blocked_id, blocked_at) VALUES ($1, $2, $3)
                ON CONFLICT (blocker_id, blocked_id) DO NOTHING
                """, [blocker, blocked, time])
    }

    static func unblock(_ blocker: UUID, _ blocked: UUID, on connection: DatabaseConnection) throws {
        try connection.execute(
            prepared: "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2", [blocker, blocked])
    }

    /// Whether either of the two blocked the other.
    static func eitherBlocked(_ a: UUID, _ b: UUID, on connection: DatabaseConnection) throws -> Bool {
        try connection.execute(
            prepared: """
                SELECT 1 AS found FROM blocks
                WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1) LIMIT 1
                """, [a, b]
        ).first != nil
    }

    static func erase(userID: UUID, on connection: DatabaseConnection) throws {
        try connection.execute(
            prepared: "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1", [userID])
    }
}
