import Contracts
import Foundation
import Persistence

/// The SQL of `photos`, `photo_originals`, `blocked_photo_hashes`, `photo_sequences`,
/// `blob_deletions` and `erasures`.
enum PhotoStore {
    struct Photo: Sendable, Equatable {
        var id: UUID
        var userID: UUID
        var status: PhotoStatus
        var position: Int
        var reasonCode: String?
        var reason: String?
        var displayKey: String?
        var thumbnailKey: String?
        var width: Int?
        var height: Int?
        var uploadedAt: Date

        /// The variants' blobs, once it has them.
        var blobKeys: [String] { [displayKey, thumbnailKey].compactMap { $0 } }

        var summary: PhotoSummary {
            PhotoSummary(
                photoId: id, userId: userID, status: status, position: position, reason: reason, width: width,
                height: height, uploadedAt: uploadedAt)
        }
    }

    private static let columns = """
        id, user_id, status, position, reason_code, reason, display_key, thumbnail_key, display_width,
        display_height, uploaded_at
        """

    /// Holds the user's photos still until the transaction ends (counting and positions).
    static func lockUser(_ userID: UUID, on connection: DatabaseConnection) throws {
        try connection.lockUntilTransactionEnds("photos-of:\(userID.uuidString)")
    }

    /// The user's photos that are not removed, processing ones included.
    static func count(userID: UUID, on connection: DatabaseConnection) throws -> Int {
        try connection.execute(
            prepared: "SELECT count(*) AS n FROM photos WHERE user_id = $1 AND status NOT IN ('removed', 'rejected')",
            [userID]
        ).first?.int("n") ?? 0
    }

    static func hasCopy(userID: UUID, sha256: String, on connection: DatabaseConnection) throws -> Bool {
        try connection.execute(
            prepared: """
                SELECT 1 AS found FROM photos
                WHERE user_id = $1 AND sha256 = $2 AND status NOT IN ('removed', 'rejected')
                """, [userID, sha256]
        ).first != nil
    }

    /// A new photo, processing, last in the user's order, with its upload kept until processed.
    static func insert(
        id: UUID, userID: UUID, sha256: String, upload: [UInt8], at time: Date, on connection: DatabaseConnection
    ) throws -> Photo? {
        let rows = try connection.execute(
            prepared: """
                INSERT INTO photos (id, user_id, status, position, sha256, uploaded_at, updated_at)
                VALUES ($1, $2, 'processing',
                    (SELECT coalesce(max(position) + 1, 0) FROM photos WHERE user_id = $2 AND status <> 'removed'),
                    $3, $4, $4)
                ON CONFLICT (id) DO NOTHING
                RETURNING \(columns)
                """, [id, userID, sha256, time])
        guard let photo = rows.first.flatMap(photo) else { return nil }
        try connection.execute(
            prepared: "INSERT INTO photo_originals (photo_id, bytes) VALUES ($1, decode($2, 'base64'))",
            [id, Data(upload).base64EncodedString()])
        return photo
    }

    static func find(id: UUID, on connection: DatabaseConnection) throws -> Photo? {
        try connection.execute(prepared: "SELECT \(columns) FROM photos WHERE id = $1", [id]).first.flatMap(photo)
    }

    static func list(userID: UUID, on connection: DatabaseConnection) throws -> [Photo] {
        try connection.execute(
            prepared: "SELECT \(columns) FROM photos WHERE user_id = $1 AND status <> 'removed' ORDER BY position, id",
            [userID]
        ).rows.compactMap(photo)
    }

    /// Claims the oldest photo waiting to be processed whose claim (if any) has run out,
    /// for `lease` seconds; returns it with its upload.
    static func claimNext(lease: Int, now: Date, on connection: DatabaseConnection) throws -> (Photo, [UInt8])? {
        guard
            let claimed = try connection.execute(
                prepared: """
                    UPDATE photos SET lease_until = $1::timestamptz + make_interval(secs => $2::integer)
                    WHERE id = (
                        SELECT id FROM photos
                        WHERE status = 'processing' AND (lease_until IS NULL OR lease_until < $1)
                        ORDER BY uploaded_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                    RETURNING \(columns)
                    """, [now, lease]
            ).first.flatMap(photo)
        else { return nil }
        let original = try connection.execute(
            prepared: "SELECT encode(bytes, 'base64') AS upload FROM photo_originals WHERE photo_id = $1", [claimed.id]
        ).first?.string("upload")
        let bytes =
            original.flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) }.map(Array.init) ?? []
        return (claimed, bytes)
    }

    /// What `recordVariants` found.
    enum VariantRecord: Equatable {
        /// Named on the photo: store them.
        case recorded
        /// The photo is no longer processing (removed meanwhile): store nothing.
        case removed
        /// A worker is deleting a blob of the same bytes: try again once it is gone.
        case blobBeingDeleted
    }

    /// Names the variants a worker is about to store on the photo it processes, holding the
    /// keys' locks, so that neither a deletion pass (`beginBlobDeletion`) nor an erasure
    /// misses them. A deletion of the same bytes decided before waits to be finished first:
    /// otherwise it could delete what is stored now.
    static func recordVariants(
        id: UUID, displayKey: String, thumbnailKey: String, now: Date, on connection: DatabaseConnection
    ) throws -> VariantRecord {
        for key in [displayKey, thumbnailKey].sorted() { try connection.lockUntilTransactionEnds("blob:\(key)") }
        let deleting =
            try connection.execute(
                prepared: """
                    SELECT 1 AS deleting FROM blob_deletions
                    WHERE key IN ($1, $2)
                        AND deleting_since >= $3::timestamptz - make_interval(secs => $4::integer)
                    LIMIT 1
                    """, [displayKey, thumbnailKey, now, deletionHoldSeconds]
            ).first != nil
        if deleting { return .blobBeingDeleted }
        let named =
            try connection.execute(
                prepared: """
                    UPDATE photos SET display_key = $2, thumbnail_key = $3 WHERE id = $1 AND status = 'processing'
                    RETURNING id
                    """, [id, displayKey, thumbnailKey]
            ).first != nil
        return named ? .recorded : .removed
    }

    /// Ends a worker's claim on a photo without a result, so that the next pass takes it again.
    static func releaseClaim(id: UUID, on connection: DatabaseConnection) throws {
        try connection.execute(prepared: "UPDATE photos SET lease_until = NULL WHERE id = $1", [id])
    }

    /// Records what processing found: the variants, and the photo's next status; the upload goes.
    static func finishProcessing(
        id: UUID, status: PhotoStatus, processed: ProcessedPhoto, displayKey: String, thumbnailKey: String,
        at time: Date, on connection: DatabaseConnection
    ) throws -> Photo? {
        let photo = try connection.execute(
            prepared: """
                UPDATE photos SET status = $2, dhash = $3::bigint, display_key = $4, display_width = $5::integer,
                    display_height = $6::integer, thumbnail_key = $7, thumbnail_width = $8::integer,
                    thumbnail_height = $9::integer, lease_until = NULL, updated_at = $10
                WHERE id = $1 AND status = 'processing'
                RETURNING \(columns)
                """,
            [
                id, status.rawValue, Int64(bitPattern: processed.differenceHash), displayKey, processed.display.width,
                processed.display.height, thumbnailKey, processed.thumbnail.width, processed.thumbnail.height, time,
            ]
        ).first.flatMap(photo)
        try connection.execute(prepared: "DELETE FROM photo_originals WHERE photo_id = $1", [id])
        return photo
    }

    /// Rejects a photo (by its checks or a moderator); the upload goes.
    static func reject(id: UUID, code: String, reason: String, at time: Date, on connection: DatabaseConnection) throws
        -> Photo?
    {
        let photo = try connection.execute(
            prepared: """
                UPDATE photos SET status = 'rejected', reason_code = $2, reason = $3, lease_until = NULL, updated_at = $4
                WHERE id = $1 AND status IN ('processing', 'pending-review', 'approved')
                RETURNING \(columns)
                """, [id, code, reason, time]
        ).first.flatMap(photo)
        try connection.execute(prepared: "DELETE FROM photo_originals WHERE photo_id = $1", [id])
        return photo
    }

    /// Whether a difference hash is within `distance` bits of a blocked one.
    static func isBlocked(hash: UInt64, distance: Int, on connection: DatabaseConnection) throws -> Bool {
        try connection.execute(
            prepared: """
                SELECT 1 AS found FROM blocked_photo_hashes
                WHERE bit_count((dhash # $1::bigint)::bit(64)) <= $2::integer LIMIT 1
                """, [Int64(bitPattern: hash), distance]
        ).first != nil
    }

    /// Photos shown or waiting for review whose difference hash is within `distance` bits of `hash`.
    static func shownNearCopies(of hash: UInt64, distance: Int, on connection: DatabaseConnection) throws -> [Photo] {
        try connection.execute(
            prepared: """
                SELECT \(columns) FROM photos
                WHERE status IN ('approved', 'pending-review') AND dhash IS NOT NULL
                    AND bit_count((dhash # $1::bigint)::bit(64)) <= $2::integer
                ORDER BY uploaded_at, id
                """, [Int64(bitPattern: hash), distance]
        ).rows.compactMap(photo)
    }

    static func block(photoID: UUID, hash: UInt64, at time: Date, on connection: DatabaseConnection) throws {
        try connection.execute(
            prepared: """
                INSERT INTO blocked_photo_hashes (photo_id, dhash, blocked_at) VALUES ($1, $2::bigint, $3)
                ON CONFLICT (photo_id) DO NOTHING
                """, [photoID, Int64(bitPattern: hash), time])
    }

    /// The user's photos that can be ordered (not removed or rejected), by position.
    static func orderable(userID: UUID, on connection: DatabaseConnection) throws -> [UUID] {
        try connection.execute(
            prepared: """
                SELECT id FROM photos WHERE user_id = $1 AND status NOT IN ('removed', 'rejected')
                ORDER BY position, id
                """, [userID]
        ).rows.compactMap { $0.uuid("id") }
    }

    /// Gives the photos positions 0, 1, 2 … in this order.
    static func setOrder(_ photoIDs: [UUID], at time: Date, on connection: DatabaseConnection) throws {
        for (position, id) in photoIDs.enumerated() {
            try connection.execute(
                prepared: "UPDATE photos SET position = $2::integer, updated_at = $3 WHERE id = $1",
                [id, position, time])
        }
    }

    /// Removes a user's photo (not already removed); queues its blobs for deletion and
    /// drops its upload. A worker's claim on it stays until the worker gives it up
    /// (`abandonProcessing`) or it runs out, so that an erasure waits for what it stores.
    /// The removed photo, or nil.
    static func remove(id: UUID, userID: UUID, at time: Date, on connection: DatabaseConnection) throws -> Photo? {
        guard
            let photo = try connection.execute(
                prepared: """
                    UPDATE photos SET status = 'removed', updated_at = $3
                    WHERE id = $1 AND user_id = $2 AND status <> 'removed'
                    RETURNING \(columns)
                    """, [id, userID, time]
            ).first.flatMap(photo)
        else { return nil }
        try connection.execute(prepared: "DELETE FROM photo_originals WHERE photo_id = $1", [id])
        try queueDeletion(of: photo.blobKeys, at: time, on: connection)
        return photo
    }

    /// Queues blobs that may no longer be used; the worker deletes each one no photo shows.
    static func queueDeletion(of keys: [String], at time: Date, on connection: DatabaseConnection) throws {
        for key in keys {
            try connection.execute(
                prepared: "INSERT INTO blob_deletions (key, queued_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                [key, time])
        }
    }

    /// A photo removed while it was processed: the variants just stored (display, then
    /// thumbnail) are named on its row, so that an erasure waits for them, and queued for
    /// deletion; the claim ends.
    static func abandonProcessing(id: UUID, storedKeys: [String], at time: Date, on connection: DatabaseConnection)
        throws
    {
        try connection.execute(
            prepared: """
                UPDATE photos SET display_key = coalesce(display_key, $2), thumbnail_key = coalesce(thumbnail_key, $3),
                    lease_until = NULL
                WHERE id = $1 AND status = 'removed'
                """, [id, storedKeys.first, storedKeys.dropFirst().first])
        try queueDeletion(of: storedKeys, at: time, on: connection)
    }

    // MARK: Moderation

    /// Photos of a status, oldest first, at most `limit`.
    static func list(status: PhotoStatus, limit: Int, on connection: DatabaseConnection) throws -> [Photo] {
        try connection.execute(
            prepared: "SELECT \(columns) FROM photos WHERE status = $1 ORDER BY uploaded_at, id LIMIT $2::integer",
            [status.rawValue, limit]
        ).rows.compactMap(photo)
    }

    /// Approves a photo waiting for review; nil if it is not waiting.
    static func approve(id: UUID, by moderator: UUID, at time: Date, on connection: DatabaseConnection) throws
        -> Photo?
    {
        try connection.execute(
            prepared: """
                UPDATE photos SET status = 'approved', decided_by = $2, decided_at = $3, updated_at = $3
                WHERE id = $1 AND status = 'pending-review'
                RETURNING \(columns)
                """, [id, moderator, time]
        ).first.flatMap(photo)
    }

    /// Records who rejected a photo.
    static func recordDecision(id: UUID, by moderator: UUID, at time: Date, on connection: DatabaseConnection) throws {
        try connection.execute(
            prepared: "UPDATE photos SET decided_by = $2, decided_at = $3 WHERE id = $1", [id, moderator, time])
    }

    /// The difference hash of a processed photo.
    static func differenceHash(of id: UUID, on connection: DatabaseConnection) throws -> UInt64? {
        try connection.execute(prepared: "SELECT dhash FROM photos WHERE id = $1", [id]).first?.int64("dhash").map {
            UInt64(bitPattern: $0)
        }
    }

    // MARK: Erasure

    /// An account being erased: every photo of the user is removed (its blobs queued) and
    /// the erasure kept until the worker finishes it. Photos a worker is processing keep
    /// their claim, so that the erasure waits for what it stores.
    static func beginErasure(
        operationID: UUID, userID: UUID, correlationID: String, causationID: String, traceparent: String?,
        at time: Date, on connection: DatabaseConnection
    ) throws {
        let removed = try connection.execute(
            prepared: """
                UPDATE photos SET status = 'removed', updated_at = $2 WHERE user_id = $1 AND status <> 'removed'
                RETURNING \(columns)
                """, [userID, time]
        ).rows.compactMap(photo)
        try connection.execute(
            prepared: "DELETE FROM photo_originals WHERE photo_id IN (SELECT id FROM photos WHERE user_id = $1)",
            [userID])
        try queueDeletion(of: removed.flatMap(\.blobKeys), at: time, on: connection)
        try connection.execute(
            prepared: """
                INSERT INTO erasures (operation_id, user_id, correlation_id, causation_id, traceparent, requested_at)
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (operation_id) DO NOTHING
                """, [operationID, userID, correlationID, causationID, traceparent, time])
        try connection.execute(
            prepared: "INSERT INTO erased_users (user_id, erased_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
            [userID, time])
    }

    /// Whether the user's account was erased (their uploads are refused).
    static func isErased(_ userID: UUID, on connection: DatabaseConnection) throws -> Bool {
        try connection.execute(prepared: "SELECT 1 AS erased FROM erased_users WHERE user_id = $1", [userID]).first
            != nil
    }

    struct Erasure: Sendable, Equatable {
        var operationID: UUID
        var userID: UUID
        var correlationID: String
        var causationID: String
        var traceparent: String?
    }

    static func erasures(on connection: DatabaseConnection) throws -> [Erasure] {
        try connection.execute(
            prepared: """
                SELECT operation_id, user_id, correlation_id, causation_id, traceparent FROM erasures
                ORDER BY requested_at LIMIT 100
                """
        ).rows.compactMap { row in
            guard let operationID = row.uuid("operation_id"), let userID = row.uuid("user_id"),
                let correlationID = row.string("correlation_id"), let causationID = row.string("causation_id")
            else { return nil }
            return Erasure(
                operationID: operationID, userID: userID, correlationID: correlationID, causationID: causationID,
                traceparent: row.string("traceparent"))
        }
    }

    /// Finishes an erasure whose blobs are all gone: the user's rows are deleted; false
    /// while a worker still holds a claim on one of their photos or a blob of theirs waits
    /// for deletion.
    static func finishErasure(_ erasure: Erasure, now: Date, on connection: DatabaseConnection) throws -> Bool {
        let waiting =
            try connection.execute(
                prepared: """
                    SELECT 1 AS waiting FROM photos p
                    WHERE p.user_id = $1 AND (
                        p.lease_until > $2
                        OR EXISTS (SELECT 1 FROM blob_deletions d WHERE d.key = p.display_key OR d.key = p.thumbnail_key))
                    LIMIT 1
                    """, [erasure.userID, now]
            ).first != nil
        guard !waiting else { return false }
        try connection.execute(prepared: "DELETE FROM photos WHERE user_id = $1", [erasure.userID])
        try connection.execute(prepared: "DELETE FROM photo_sequences WHERE user_id = $1", [erasure.userID])
        try connection.execute(prepared: "DELETE FROM erasures WHERE operation_id = $1", [erasure.operationID])
        return true
    }

    /// How long a worker's decision to delete a blob holds others off: a worker that died
    /// between deciding and deleting leaves the blob to the next pass after that.
    static let deletionHoldSeconds = 300

    /// Keys queued for deletion that no worker is deleting now, oldest first, at most `limit`.
    static func queuedBlobs(limit: Int, now: Date, on connection: DatabaseConnection) throws -> [String] {
        try connection.execute(
            prepared: """
                SELECT key FROM blob_deletions
                WHERE deleting_since IS NULL OR deleting_since < $2::timestamptz - make_interval(secs => $3::integer)
                ORDER BY queued_at LIMIT $1::integer
                """, [limit, now, deletionHoldSeconds]
        ).rows.compactMap { $0.string("key") }
    }

    /// Decides whether a queued blob goes, holding the key's lock (`recordVariants` takes it
    /// too): one that a photo being processed or shown names is forgotten (false); otherwise
    /// the decision is recorded (true) and the caller deletes the blob, then
    /// `finishBlobDeletion`. Removed and rejected photos do not keep a blob.
    static func beginBlobDeletion(_ key: String, now: Date, on connection: DatabaseConnection) throws -> Bool {
        try connection.lockUntilTransactionEnds("blob:\(key)")
        let used =
            try connection.execute(
                prepared: """
                    SELECT 1 AS used FROM photos
                    WHERE status NOT IN ('removed', 'rejected') AND (display_key = $1 OR thumbnail_key = $1) LIMIT 1
                    """, [key]
            ).first != nil
        if used {
            try connection.execute(prepared: "DELETE FROM blob_deletions WHERE key = $1", [key])
            return false
        }
        return try connection.execute(
            prepared: "UPDATE blob_deletions SET deleting_since = $2 WHERE key = $1 RETURNING key", [key, now]
        ).first != nil
    }

    /// The blob is gone: its queue row goes.
    static func finishBlobDeletion(_ key: String, on connection: DatabaseConnection) throws {
        try connection.execute(prepared: "DELETE FROM blob_deletions WHERE key = $1", [key])
    }

    /// The user's next photo sequence.
    static func nextSequence(userID: UUID, on connection: DatabaseConnection) throws -> Int64 {
        try connection.execute(
            prepared: """
                INSERT INTO photo_sequences (user_id, sequence) VALUES ($1, 1)
                ON CONFLICT (user_id) DO UPDATE SET sequence = photo_sequences.sequence + 1
                RETURNING sequence
                """, [userID]
        ).first?.int64("sequence") ?? 1
    }

    private static func photo(_ row: Row) -> Photo? {
        guard let id = row.uuid("id"), let userID = row.uuid("user_id"),
            let status = row.string("status").flatMap(PhotoStatus.init(rawValue:)), let position = row.int("position"),
            let uploadedAt = row.date("uploaded_at")
        else { return nil }
        return Photo(
            id: id, userID: userID, status: status, position: position, reasonCode: row.string("reason_code"),
            reason: row.string("reason"), displayKey: row.string("display_key"),
            thumbnailKey: row.string("thumbnail_key"), width: row.int("display_width"),
            height: row.int("display_height"), uploadedAt: uploadedAt)
    }
}
