import Foundation
import Persistence

/// A database of its own for one test, created through the superuser and dropped by
/// `drop()`: for code that works on a whole table (a relay, a janitor) and must see no other
/// test's rows.
public struct ScratchDatabase: Sendable {
    public let name: String
    public let pool: DatabasePool

    /// Creates it and applies `migrations` (component name, migrations) in order.
    public static func make(_ migrations: [(String, [Migration])]) async throws -> ScratchDatabase {
        let name = TestEnvironment.uniqueName("scratch_")
        let admin = DatabasePool(
            connectionString: try TestEnvironment.adminDatabaseURL(), size: 1, logger: TestEnvironment.logger("db"))
        defer { admin.close() }
        try await admin.withConnection { try $0.execute("CREATE DATABASE \(name)") }
        let pool = DatabasePool(
            connectionString: try TestEnvironment.adminDatabaseURL(database: name), size: 2,
            logger: TestEnvironment.logger("db"))
        let migrator = Migrator(pool: pool, logger: TestEnvironment.logger("migrations"))
        for (component, list) in migrations { try await migrator.migrate(component: component, list) }
        return ScratchDatabase(name: name, pool: pool)
    }

    public func drop() async {
        pool.close()
        guard
            let admin = try? DatabasePool(
                connectionString: TestEnvironment.adminDatabaseURL(), size: 1, logger: TestEnvironment.logger("db"))
        else { return }
        defer { admin.close() }
        _ = try? await admin.withConnection { try $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }
}
