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
                """)
    ]
}
