import Persistence

/// The gateway's own schema, in the `kindred_gateway` database.
enum GatewayMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "accounts",
            sql: """
                CREATE TABLE accounts (
                    user_id uuid PRIMARY KEY,
                    email text NOT NULL,
                    password_hash text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE UNIQUE INDEX accounts_email ON accounts (email);
                """),
        Migration(
            version: 2, name: "guests, suspensions and refresh tokens",
            sql: """
                ALTER TABLE accounts
                    ALTER COLUMN email DROP NOT NULL,
                    ALTER COLUMN password_hash DROP NOT NULL,
                    ADD COLUMN kind text NOT NULL DEFAULT 'member' CHECK (kind IN ('guest', 'member')),
                    ADD COLUMN display_name text,
                    ADD COLUMN suspended_at timestamptz,
                    ADD COLUMN sequence bigint NOT NULL DEFAULT 1;
                CREATE TABLE refresh_tokens (
                    token_hash text PRIMARY KEY,
                    family_id uuid NOT NULL,
                    user_id uuid NOT NULL REFERENCES accounts (user_id) ON DELETE CASCADE,
                    issued_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    used_at timestamptz,
                    revoked_at timestamptz
                );
                CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
                CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
                """),
        Migration(
            version: 3, name: "idempotency keys",
            sql: """
                CREATE TABLE idempotency_keys (
                    scope text NOT NULL,
                    key text NOT NULL,
                    fingerprint text NOT NULL,
                    status integer,
                    content_type text,
                    retry_after integer,
                    body bytea,
                    created_at timestamptz NOT NULL,
                    PRIMARY KEY (scope, key)
                );
                CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
                """),
        Migration(
            version: 4, name: "live events",
            sql: """
                CREATE TABLE live_events (
                    position bigserial PRIMARY KEY,
                    event_id uuid NOT NULL UNIQUE,
                    user_id uuid NOT NULL,
                    event_type text NOT NULL,
                    data text NOT NULL,
                    received_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX live_events_user ON live_events (user_id, position);
                """),
        Migration(
            version: 5, name: "operations",
            sql: """
                CREATE TABLE operations (
                    operation_id uuid PRIMARY KEY,
                    user_id uuid NOT NULL,
                    kind text NOT NULL,
                    status text NOT NULL CHECK (status IN ('pending', 'completed')),
                    waiting_for text[] NOT NULL,
                    created_at timestamptz NOT NULL,
                    completed_at timestamptz
                );
                CREATE INDEX operations_user ON operations (user_id);
                ALTER TABLE accounts ADD COLUMN deleting_since timestamptz;
                """),
        Migration(
            version: 6, name: "idempotency without tokens; expiring refresh tokens",
            sql: """
                ALTER TABLE idempotency_keys ADD COLUMN signed_in_user uuid;
                -- Answers stored before this held live tokens in clear text.
                DELETE FROM idempotency_keys WHERE position('refreshToken' in encode(body, 'escape')) > 0;
                CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
                CREATE INDEX refresh_tokens_revoked ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
                """),
        Migration(
            version: 7, name: "roles; bans; moderation in order",
            sql: """
                ALTER TABLE accounts
                    ADD COLUMN roles text[] NOT NULL DEFAULT '{}',
                    ADD COLUMN banned_at timestamptz,
                    -- The profile service's moderation sequence of the last suspension, ban or
                    -- reinstatement applied: an older one arriving late changes nothing.
                    ADD COLUMN moderation_sequence bigint NOT NULL DEFAULT 0;
                """),
        Migration(
            version: 8, name: "idempotent answers keep their Location",
            sql: """
                ALTER TABLE idempotency_keys ADD COLUMN location text;
                """),
    ]
}
