import Foundation
import Logging

/// One numbered schema change, embedded in the binary.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies migrations at start-up, in version order, once, all in one transaction.
///
/// Migrations are grouped by component (`shared` for the outbox and inbox every service
/// has, then the service's own), so both numberings start at 1. An advisory lock makes
/// concurrent instances of one service apply them one at a time.
public struct Migrator: Sendable {
    public let pool: DatabasePool
    private let logger: Logger

    public init(pool: DatabasePool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// Applies what is missing and returns the versions it applied.
    @discardableResult
    public func migrate(component: String, _ migrations: [Migration]) async throws -> [Int] {
        let sorted = migrations.sorted { $0.version < $1.version }
        let applied = try await pool.transaction { connection -> [Int] in
            // Serialises instances that start together, before anything else: even
            // `CREATE TABLE IF NOT EXISTS` fails when two sessions run it at the same time
            // on a new database. Released at commit. No statement timeout here: waiting for
            // another instance's migrations, or building an index on a big table, may take
            // longer than any request should.
            try connection.execute("SET LOCAL statement_timeout = 0")
            try connection.execute("SELECT pg_advisory_xact_lock(hashtext('kindred.migrations'))")
            try connection.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    component text NOT NULL,
                    version integer NOT NULL,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (component, version)
                )
                """)
            let done = Set(
                try connection.execute(
                    "SELECT version FROM schema_migrations WHERE component = $1", [component]
                ).rows.compactMap { $0.int("version") })
            var applied: [Int] = []
            for migration in sorted where !done.contains(migration.version) {
                try connection.execute(migration.sql)
                try connection.execute(
                    "INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)",
                    [component, migration.version, migration.name])
                applied.append(migration.version)
            }
            return applied
        }
        if !applied.isEmpty {
            logger.info("migrations applied", metadata: ["component": "\(component)", "versions": "\(applied)"])
        }
        return applied
    }
}
