import Contracts
import Foundation
import Persistence

/// The SQL of the `profiles` table. Every function runs on a connection inside the
/// caller's transaction.
enum ProfileStore {
    private static let columns = """
        user_id, display_name, birthdate::text AS birthdate, gender, seeking, bio, interests, value_ranking,
        relationship_intent, height_cm, job, education, languages, time_zone, discovery_age_min, discovery_age_max,
        discovery_max_distance_km, discovery_genders, visible, cell_row, cell_column, location_updated_at,
        attachment_style, moderation, moderation_sequence, sequence, updated_at
        """

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

    static func find(userID: UUID, on connection: DatabaseConnection) throws -> ProfileRecord? {
        try connection.execute(prepared: "SELECT \(columns) FROM profiles WHERE user_id = $1", [userID]).first.flatMap(
            record)
    }

    /// Whether both users have a profile.
    static func exists(_ userID: UUID, on connection: DatabaseConnection) throws -> Bool {
        try bothExist(userID, userID, on: connection)
    }

    static func bothExist(_ a: UUID, _ b: UUID, on connection: DatabaseConnection) throws -> Bool {
        try connection.execute(
            prepared: "SELECT count(*) AS n FROM profiles WHERE user_id IN ($1, $2)", [a, b]
        ).first?.int("n") == (a == b ? 1 : 2)
    }

    /// The profile, locked until the transaction ends: the read-modify-write of an update.
    static func lock(userID: UUID, on connection: DatabaseConnection) throws -> ProfileRecord? {
        try connection.execute(
            prepared: "SELECT \(columns) FROM profiles WHERE user_id = $1 FOR UPDATE", [userID]
        ).first.flatMap(record)
    }

    /// Writes the editable fields of `profile` and bumps the sequence; the stored record.
    static func saveEdits(_ profile: ProfileRecord, at time: Date, on connection: DatabaseConnection) throws
        -> ProfileRecord?
    {
        let discovery = profile.discovery
        return try connection.execute(
            prepared: """
                UPDATE profiles SET display_name = $2, birthdate = $3::date, gender = $4, seeking = $5::text[],
                    bio = $6, interests = $7::text[], value_ranking = $8::text[], relationship_intent = $9,
                    height_cm = $10::integer, job = $11, education = $12, languages = $13::text[], time_zone = $14,
                    discovery_age_min = $15::integer, discovery_age_max = $16::integer,
                    discovery_max_distance_km = $17::integer, discovery_genders = $18::text[], visible = $19::boolean,
                    sequence = sequence + 1, updated_at = $20
                WHERE user_id = $1
                RETURNING \(columns)
                """,
            [
                profile.userID, profile.displayName, profile.birthdate, profile.gender, profile.seeking, profile.bio,
                profile.interests, profile.values, profile.relationshipIntent, profile.heightCm, profile.job,
                profile.education, profile.languages, profile.timeZone, discovery?.ageMin, discovery?.ageMax,
                discovery?.maxDistanceKm, discovery?.genders, profile.visible, time,
            ]
        ).first.flatMap(record)
    }

    /// Moves the profile to a cell and bumps the sequence; the stored record.
    static func moveTo(
        _ cell: GridCell, userID: UUID, implausibleJump: Bool, at time: Date, on connection: DatabaseConnection
    ) throws -> ProfileRecord? {
        try connection.execute(
            prepared: """
                UPDATE profiles SET cell_row = $2::integer, cell_column = $3::integer, location_updated_at = $4,
                    location_jumps = location_jumps + CASE WHEN $5::boolean THEN 1 ELSE 0 END,
                    sequence = sequence + 1, updated_at = $4
                WHERE user_id = $1
                RETURNING \(columns)
                """, [userID, cell.row, cell.column, time, implausibleJump]
        ).first.flatMap(record)
    }

    /// Records the style of the latest assessment and bumps the sequence; the stored record.
    static func setAttachmentStyle(
        _ style: AttachmentStyle, userID: UUID, at time: Date, on connection: DatabaseConnection
    ) throws -> ProfileRecord? {
        try connection.execute(
            prepared: """
                UPDATE profiles SET attachment_style = $2, sequence = sequence + 1, updated_at = $3
                WHERE user_id = $1
                RETURNING \(columns)
                """, [userID, style.rawValue, time]
        ).first.flatMap(record)
    }

    /// Sets the moderation state, bumping both sequences; the stored record.
    static func setModeration(
        _ state: ModerationState, userID: UUID, at time: Date, on connection: DatabaseConnection
    ) throws -> ProfileRecord? {
        try connection.execute(
            prepared: """
                UPDATE profiles SET moderation = $2, moderation_sequence = moderation_sequence + 1,
                    sequence = sequence + 1, updated_at = $3
                WHERE user_id = $1
                RETURNING \(columns)
                """, [userID, state.rawValue, time]
        ).first.flatMap(record)
    }

    private static func record(_ row: Row) -> ProfileRecord? {
        guard let userID = row.uuid("user_id"), let sequence = row.int64("sequence"),
            let updatedAt = row.date("updated_at")
        else { return nil }
        var profile = ProfileRecord(userID: userID, updatedAt: updatedAt)
        profile.displayName = row.string("display_name")
        profile.birthdate = row.string("birthdate")
        profile.gender = row.string("gender")
        profile.seeking = row.stringArray("seeking") ?? []
        profile.bio = row.string("bio")
        profile.interests = row.stringArray("interests")
        profile.values = row.stringArray("value_ranking")
        profile.relationshipIntent = row.string("relationship_intent")
        profile.heightCm = row.int("height_cm")
        profile.job = row.string("job")
        profile.education = row.string("education")
        profile.languages = row.stringArray("languages")
        profile.timeZone = row.string("time_zone")
        if let ageMin = row.int("discovery_age_min"), let ageMax = row.int("discovery_age_max"),
            let distance = row.int("discovery_max_distance_km"), let genders = row.stringArray("discovery_genders")
        {
            profile.discovery = DiscoveryPreferences(
                ageMin: ageMin, ageMax: ageMax, maxDistanceKm: distance, genders: genders)
        }
        profile.visible = row.bool("visible") ?? true
        if let cellRow = row.int("cell_row"), let column = row.int("cell_column") {
            profile.cell = GridCell(row: cellRow, column: column)
        }
        profile.locationUpdatedAt = row.date("location_updated_at")
        profile.attachmentStyle = row.string("attachment_style").flatMap(AttachmentStyle.init(rawValue:))
        profile.moderation = row.string("moderation").flatMap(ModerationState.init(rawValue:)) ?? .none
        profile.moderationSequence = row.int64("moderation_sequence") ?? 0
        profile.sequence = sequence
        return profile
    }
}
