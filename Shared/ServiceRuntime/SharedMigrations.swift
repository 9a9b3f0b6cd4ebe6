import Persistence

/// The tables every service has, defined once: the transactional outbox (one row per
/// event the service publishes), the inbox (one row per message it processed, per queue,
/// with the answer of a request so that a redelivered one is answered the same), and the
/// bookkeeping of projections, replays and redeliveries.
public enum SharedMigrations {
    public static let component = "shared"
    public static let all: [Migration] = [
        Migration(
            version: 1, name: "outbox and inbox",
            sql: """
                CREATE TABLE outbox (
                    position bigserial PRIMARY KEY,
                    event_id uuid NOT NULL UNIQUE,
                    event_type text NOT NULL,
                    subject text,
                    correlation_id text NOT NULL,
                    occurred_at timestamptz NOT NULL,
                    body text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    published_at timestamptz
                );
                CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
                CREATE TABLE inbox (
                    queue text NOT NULL,
                    message_id text NOT NULL,
                    processed_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (queue, message_id)
                );
                """),
        Migration(
            version: 2, name: "projection positions",
            sql: """
                CREATE TABLE projection_positions (
                    projection text NOT NULL,
                    aggregate text NOT NULL,
                    sequence bigint NOT NULL,
                    PRIMARY KEY (projection, aggregate)
                );
                """),
        Migration(
            version: 3, name: "replay audit",
            sql: """
                CREATE TABLE replays (
                    replay_id uuid PRIMARY KEY,
                    requested_by text NOT NULL,
                    requested_at timestamptz NOT NULL DEFAULT now(),
                    selection text NOT NULL,
                    destination text NOT NULL,
                    as_new boolean NOT NULL,
                    events integer NOT NULL
                );
                """),
        Migration(
            version: 4, name: "inbox attempts and replays",
            sql: """
                ALTER TABLE inbox ADD COLUMN attempts integer NOT NULL DEFAULT 1, ADD COLUMN replay_id text;
                """),
        Migration(
            version: 5, name: "redelivery counts and outbox rows set aside",
            sql: """
                CREATE TABLE redeliveries (
                    queue text NOT NULL,
                    message_key text NOT NULL,
                    count integer NOT NULL,
                    last_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (queue, message_key)
                );
                ALTER TABLE outbox
                    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
                    ADD COLUMN next_attempt_at timestamptz,
                    ADD COLUMN last_error text,
                    ADD COLUMN set_aside_at timestamptz;
                DROP INDEX outbox_unpublished;
                CREATE INDEX outbox_unpublished ON outbox (position)
                    WHERE published_at IS NULL AND set_aside_at IS NULL;
                """),
        Migration(
            version: 6, name: "inbox replies",
            sql: """
                ALTER TABLE inbox ADD COLUMN reply text;
                """),
    ]
}
