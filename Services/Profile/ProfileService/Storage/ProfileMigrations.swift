import Persistence

/// The profile service's own schema, in the `kindred_profile` database.
enum ProfileMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "profiles",
            sql: """
                CREATE TABLE profiles (
                    user_id uuid PRIMARY KEY,
                    display_name text,
                    birthdate date,
                    gender text,
                    seeking text[] NOT NULL DEFAULT '{}',
                    bio text,
                    sequence bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now()
                );
                """),
        Migration(
            version: 2, name: "the whole profile, location cells, assessments, reports and moderation",
            sql: """
                ALTER TABLE profiles
                    ADD COLUMN interests text[],
                    ADD COLUMN value_ranking text[],
                    ADD COLUMN relationship_intent text,
                    ADD COLUMN height_cm integer,
                    ADD COLUMN job text,
                    ADD COLUMN education text,
                    ADD COLUMN languages text[],
                    ADD COLUMN time_zone text,
                    ADD COLUMN discovery_age_min integer,
                    ADD COLUMN discovery_age_max integer,
                    ADD COLUMN discovery_max_distance_km integer,
                    ADD COLUMN discovery_genders text[],
                    ADD COLUMN visible boolean NOT NULL DEFAULT true,
                    -- The grid cell only (Contracts/LocationGrid): no coordinate is ever stored.
                    ADD COLUMN cell_row integer,
                    ADD COLUMN cell_column integer,
                    ADD COLUMN location_updated_at timestamptz,
                    ADD COLUMN location_jumps integer NOT NULL DEFAULT 0,
                    ADD COLUMN attachment_style text,
                    ADD COLUMN moderation text NOT NULL DEFAULT 'none'
                        CHECK (moderation IN ('none', 'held', 'suspended', 'banned')),
                    ADD COLUMN moderation_sequence bigint NOT NULL DEFAULT 0;

                CREATE TABLE attachment_assessments (
                    id uuid PRIMARY KEY,
                    user_id uuid NOT NULL,
                    answers smallint[] NOT NULL,
                    anxiety double precision NOT NULL,
                    avoidance double precision NOT NULL,
                    style text NOT NULL,
                    taken_at timestamptz NOT NULL
                );
                CREATE INDEX attachment_assessments_by_user ON attachment_assessments (user_id, taken_at);

                CREATE TABLE reports (
                    id uuid PRIMARY KEY,
                    -- NULL once the reporter deleted their account.
                    reporter_id uuid,
                    target_id uuid NOT NULL,
                    reason text NOT NULL,
                    detail text,
                    -- superseded: closed because a decision about another report settled the user's case;
                    -- it says nothing of whether this report held up, so it never counts as dismissed.
                    -- void: about no user there was; kept only so that it is answered and limited
                    -- exactly like a real one (no existence oracle), never shown to moderators.
                    status text NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'dismissed', 'actioned', 'superseded', 'void')),
                    reported_at timestamptz NOT NULL,
                    decision text,
                    decided_at timestamptz
                );
                CREATE UNIQUE INDEX reports_one_open_per_pair ON reports (reporter_id, target_id)
                    WHERE status IN ('open', 'void');
                CREATE INDEX reports_by_reporter ON reports (reporter_id, reported_at);
                CREATE INDEX reports_by_target ON reports (target_id, reported_at);
                CREATE INDEX reports_open ON reports (reported_at) WHERE status = 'open';

                -- The audit of moderators' decisions.
                CREATE TABLE moderation_decisions (
                    id uuid PRIMARY KEY,
                    report_id uuid NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
                    target_id uuid NOT NULL,
                    -- NULL once the moderator deleted their account.
                    moderator_id uuid,
                    action text NOT NULL,
                    note text,
                    decided_at timestamptz NOT NULL
                );
                CREATE INDEX moderation_decisions_by_target ON moderation_decisions (target_id);

                -- A projection of matching's blocks: who may not see whom. One row per pair with
                -- the time of the last block or unblock applied, so that events applied out of
                -- order end as the last one says.
                CREATE TABLE blocks (
                    blocker_id uuid NOT NULL,
                    blocked_id uuid NOT NULL,
                    blocked boolean NOT NULL,
                    changed_at timestamptz NOT NULL,
                    PRIMARY KEY (blocker_id, blocked_id)
                );
                CREATE INDEX blocks_by_blocked ON blocks (blocked_id) WHERE blocked;
                """),
        Migration(
            version: 3, name: "photos",
            sql: """
                -- The projection of media's photo events: which photos of a user others may
                -- see, in what order. Each event carries the user's photo sequence; a row keeps
                -- the sequence of the event that last set whether it is shown and of the one
                -- that last set its position, so that events arriving out of order end as the
                -- last one says.
                CREATE TABLE profile_photos (
                    photo_id uuid PRIMARY KEY,
                    user_id uuid NOT NULL,
                    shown boolean NOT NULL,
                    position integer NOT NULL,
                    shown_sequence bigint NOT NULL,
                    position_sequence bigint NOT NULL
                );
                CREATE INDEX profile_photos_by_user ON profile_photos (user_id, position) WHERE shown;
                """),
    ]
}
