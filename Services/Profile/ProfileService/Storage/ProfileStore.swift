import Contracts
import Foundation
import Persistence

/// The SQL of the `profiles` table. Every function runs on a connection inside the
/// caller's transaction.
enum ProfileStore {
    private static let columns =
        "user_id, display_name, birthdate::text AS birthdate, gender, seeking, bio, sequence, updated_at"

    /// Creates the profile of a new user, empty but for the display name a guest chose.
    /// Returns false if it already existed.
    static func create(
        userID: UUID, displayName: String?, at time: Date, on connection: DatabaseConnection
    ) throws -> Bool {
        try connection.execute(
            prepared: """
                INSERT INTO profiles (user_id, display_name, created_at, updated_at) VALUES ($1, $2, $3, $3)
                ON CONFLICT (user_id) DO NOTHING
                """, [userID, displayName, time]
        ).affectedRows == 1
    }

    /// Erases a user's profile (account deletion).
    static func erase(userID: UUID, on connection: DatabaseConnection) throws {
        try connection.execute(prepared: "DELETE FROM profiles WHERE user_id = $1", [userID])
    }

    static func find(userID: UUID, on connection: DatabaseConnection) throws -> (ProfileDocument, Int64)? {
        try connection.execute(prepared: "SELECT \(columns) FROM profiles WHERE user_id = $1", [userID]).first.flatMap(
            document)
    }

    /// Replaces the editable fields and bumps the sequence; nil if there is no profile.
    static func replace(
        userID: UUID, with profile: ValidProfile, at time: Date, on connection: DatabaseConnection
    ) throws -> (ProfileDocument, Int64)? {
        try connection.execute(
            prepared: """
                UPDATE profiles SET display_name = $2, birthdate = $3::date, gender = $4, seeking = $5::text[],
                    bio = $6, sequence = sequence + 1, updated_at = $7
                WHERE user_id = $1
                RETURNING \(columns)
                """,
            [userID, profile.displayName, profile.birthdate, profile.gender, profile.seeking, profile.bio, time]
        ).first.flatMap(document)
    }

    private static func document(_ row: Row) -> (ProfileDocument, Int64)? {
        guard let userID = row.uuid("user_id"), let sequence = row.int64("sequence"),
            let updatedAt = row.date("updated_at")
        else { return nil }
        let profile = ProfileDocument(
            userId: userID, displayName: row.string("display_name"), birthdate: row.string("birthdate"),
            gender: row.string("gender"), seeking: row.stringArray("seeking") ?? [], bio: row.string("bio"),
            updatedAt: updatedAt)
        return (profile, sequence)
    }
}
