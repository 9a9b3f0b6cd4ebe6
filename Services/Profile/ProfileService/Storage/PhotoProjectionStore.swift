import Foundation
import Persistence

/// The SQL of `profile_photos`, the projection of media's `PhotoApproved`, `PhotoRejected`,
/// `PhotoRemoved` and `PhotosReordered`. Every change is kept only if its event is later in
/// the user's photo sequence than what set that part of the row before.
enum PhotoProjectionStore {
    /// A photo may be shown, at `position`.
    static func approve(
        photoID: UUID, userID: UUID, position: Int, sequence: Int64, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            prepared: """
                INSERT INTO profile_photos (photo_id, user_id, shown, position, shown_sequence, position_sequence)
                VALUES ($1, $2, true, $3::integer, $4::bigint, $4::bigint)
                ON CONFLICT (photo_id) DO UPDATE SET
                    shown = CASE WHEN profile_photos.shown_sequence < excluded.shown_sequence
                        THEN true ELSE profile_photos.shown END,
                    shown_sequence = greatest(profile_photos.shown_sequence, excluded.shown_sequence),
                    position = CASE WHEN profile_photos.position_sequence < excluded.position_sequence
                        THEN excluded.position ELSE profile_photos.position END,
                    position_sequence = greatest(profile_photos.position_sequence, excluded.position_sequence)
                """, [photoID, userID, position, sequence])
    }

    /// A photo is not shown any more (rejected or removed: for good).
    static func hide(photoID: UUID, userID: UUID, sequence: Int64, on connection: DatabaseConnection) throws {
        try connection.execute(
            prepared: """
                INSERT INTO profile_photos (photo_id, user_id, shown, position, shown_sequence, position_sequence)
                VALUES ($1, $2, false, 0, $3::bigint, 0)
                ON CONFLICT (photo_id) DO UPDATE SET shown = false, shown_sequence = excluded.shown_sequence
                WHERE profile_photos.shown_sequence < excluded.shown_sequence
                """, [photoID, userID, sequence])
    }

    /// The user's photos in a new order (some may not be approved yet: their row waits).
    static func reorder(_ photoIDs: [UUID], userID: UUID, sequence: Int64, on connection: DatabaseConnection) throws {
        for (position, photoID) in photoIDs.enumerated() {
            try connection.execute(
                prepared: """
                    INSERT INTO profile_photos (photo_id, user_id, shown, position, shown_sequence, position_sequence)
                    VALUES ($1, $2, false, $3::integer, 0, $4::bigint)
                    ON CONFLICT (photo_id) DO UPDATE SET position = excluded.position,
                        position_sequence = excluded.position_sequence
                    WHERE profile_photos.position_sequence < excluded.position_sequence
                    """, [photoID, userID, position, sequence])
        }
    }

    /// The photos others may see, the primary first.
    static func shown(userID: UUID, on connection: DatabaseConnection) throws -> [UUID] {
        try connection.execute(
            prepared: "SELECT photo_id FROM profile_photos WHERE user_id = $1 AND shown ORDER BY position, photo_id",
            [userID]
        ).rows.compactMap { $0.uuid("photo_id") }
    }

    static func erase(userID: UUID, on connection: DatabaseConnection) throws {
        try connection.execute(prepared: "DELETE FROM profile_photos WHERE user_id = $1", [userID])
    }
}
