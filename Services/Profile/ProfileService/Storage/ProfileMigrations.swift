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
                """)
    ]
}
