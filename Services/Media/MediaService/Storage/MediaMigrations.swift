import Persistence

/// The media service's own schema, in the `kindred_media` database.
enum MediaMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "photos",
            sql: """
                CREATE TABLE photos (
                    id uuid PRIMARY KEY,
                    user_id uuid NOT NULL,
                    status text NOT NULL
                        CHECK (status IN ('processing', 'pending-review', 'approved', 'rejected', 'removed')),
                    position integer NOT NULL,
                    -- SHA-256 of the upload (exact copies of the user's own photos are refused).
                    sha256 text NOT NULL,
                    -- The 64-bit difference hash of the pixels, once processed.
                    dhash bigint,
                    reason_code text,
                    reason text,
                    display_key text,
                    display_width integer,
                    display_height integer,
                    thumbnail_key text,
                    thumbnail_width integer,
                    thumbnail_height integer,
                    -- A processing worker's claim: another takes the photo once it has passed.
                    lease_until timestamptz,
                    uploaded_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                CREATE INDEX photos_by_user ON photos (user_id, position) WHERE status <> 'removed';
                CREATE UNIQUE INDEX photos_one_copy_per_user ON photos (user_id, sha256)
                    WHERE status NOT IN ('removed', 'rejected');
                CREATE INDEX photos_processing ON photos (uploaded_at) WHERE status = 'processing';

                -- The upload until it is processed; never served, deleted with the processing.
                CREATE TABLE photo_originals (
                    photo_id uuid PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
                    bytes bytea NOT NULL
                );

                -- Difference hashes of rejected photos: a near copy is rejected again, by anyone.
                CREATE TABLE blocked_photo_hashes (
                    photo_id uuid PRIMARY KEY,
                    dhash bigint NOT NULL,
                    blocked_at timestamptz NOT NULL
                );

                -- Each user's photo sequence, shared by all their photo events.
                CREATE TABLE photo_sequences (
                    user_id uuid PRIMARY KEY,
                    sequence bigint NOT NULL
                );
                """),
        Migration(
            version: 2, name: "blob deletions",
            sql: """
                -- Blobs a removal may have left unused: the worker deletes each one no photo
                -- still names (variants are content-addressed, so two photos can share one).
                CREATE TABLE blob_deletions (
                    key text PRIMARY KEY,
                    queued_at timestamptz NOT NULL
                );
                -- What the deletion pass asks of every queued key: does a photo still show it?
                CREATE INDEX photos_by_display_key ON photos (display_key) WHERE status <> 'removed';
                CREATE INDEX photos_by_thumbnail_key ON photos (thumbnail_key) WHERE status <> 'removed';
                """),
        Migration(
            version: 3, name: "moderation and erasure",
            sql: """
                -- Who decided a photo under review, and when (the audit of moderation).
                ALTER TABLE photos ADD COLUMN decided_by uuid, ADD COLUMN decided_at timestamptz;
                -- The moderators' queue: photos by status, oldest first.
                CREATE INDEX photos_by_status ON photos (status, uploaded_at);

                -- Accounts being erased: their photos are removed at once; their rows go, and
                -- UserDataErased is published, once the worker has deleted their blobs.
                CREATE TABLE erasures (
                    operation_id uuid PRIMARY KEY,
                    user_id uuid NOT NULL,
                    correlation_id text NOT NULL,
                    causation_id text NOT NULL,
                    traceparent text,
                    requested_at timestamptz NOT NULL
                );
                """),
        Migration(
            version: 4, name: "erased users",
            sql: """
                -- Users whose account was erased: an upload of theirs still in flight (their
                -- access token lives for minutes after) is refused. Nothing else of them is kept.
                CREATE TABLE erased_users (
                    user_id uuid PRIMARY KEY,
                    erased_at timestamptz NOT NULL
                );
                -- Near copies of a photo a moderator rejects are found among those shown.
                CREATE INDEX photos_shown_hashes ON photos (dhash) WHERE status IN ('approved', 'pending-review');
                -- When a worker decided to delete the blob (then deletes it, then the row): a
                -- worker about to store the same bytes again waits until it is gone.
                ALTER TABLE blob_deletions ADD COLUMN deleting_since timestamptz;
                """),
        Migration(
            version: 5, name: "uploads stored as they are",
            sql: """
                -- Uploads are JPEG, PNG or WebP, compressed already: not worth trying again.
                ALTER TABLE photo_originals ALTER COLUMN bytes SET STORAGE EXTERNAL;
                """),
    ]
}
