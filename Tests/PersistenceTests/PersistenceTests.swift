import Foundation
import Persistence
import TestSupport
import Testing

/// Against the real PostgreSQL that scripts/test starts, in the `kindred_test` database.
@Suite("libpq pool, queries, transactions and migrations")
struct PersistenceTests {
    let pool: DatabasePool

    init() throws {
        pool = DatabasePool(
            connectionString: try TestEnvironment.testDatabaseURL(), size: 3, logger: TestEnvironment.logger("db"))
    }

    @Test("parameters travel separately from the SQL and come back typed")
    func parameters() async throws {
        let id = UUID()
        let time = Date(timeIntervalSince1970: 1_795_000_000.25)
        let hostile = "Robert'); DROP TABLE students;--"
        let row = try await pool.withConnection { connection in
            try connection.execute(
                "SELECT $1::uuid AS id, $2::text AS name, $3::bigint AS count, $4::timestamptz AS at, $5::text[] AS tags, $6::text AS nothing, $7::boolean AS yes",
                [id, hostile, Int64(42), time, ["a", "b \"quoted\"", "c,d"], String?.none, true]
            ).first
        }
        #expect(row?.uuid("id") == id)
        #expect(row?.string("name") == hostile)
        #expect(row?.int64("count") == 42)
        #expect(row?.date("at") == time)
        #expect(row?.stringArray("tags") == ["a", "b \"quoted\"", "c,d"])
        #expect(row?.string("nothing") == nil)
        #expect(row?.bool("yes") == true)
    }

    @Test("timestamps come back as written: whole, fractional, before 1970, leap days, far future")
    func timestamps() async throws {
        var times = [
            0, 0.5, -1.25, 951_782_400, 1_795_348_800.123456, 4_102_444_799.999999, -2_208_988_800, 1_709_164_800,
        ].map { Date(timeIntervalSince1970: $0) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            // Whole microseconds, as PostgreSQL keeps them.
            let micros = Int64.random(in: -3_000_000_000_000_000...5_000_000_000_000_000, using: &generator)
            times.append(Date(timeIntervalSince1970: Double(micros) / 1_000_000))
        }
        let written = times
        let read = try await pool.withConnection { connection in
            try written.map { time in try connection.execute("SELECT $1::timestamptz AS at", [time]).first?.date("at") }
        }
        for (time, back) in zip(times, read) {
            let back = try #require(back, "\(time) did not come back")
            #expect(abs(back.timeIntervalSince1970 - time.timeIntervalSince1970) < 0.000_001_5, "\(time) → \(back)")
        }
    }

    @Test("a transaction commits when its body returns and rolls back when it throws")
    func transactions() async throws {
        let table = TestEnvironment.uniqueName("tx_")
        try await pool.withConnection { try $0.execute("CREATE TABLE \(table) (value integer PRIMARY KEY)") }
        try await pool.transaction { try $0.execute("INSERT INTO \(table) VALUES (1)") }
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await pool.transaction { connection in
                try connection.execute("INSERT INTO \(table) VALUES (2)")
                throw Abort()
            }
        }
        let values = try await pool.withConnection {
            try $0.execute("SELECT value FROM \(table) ORDER BY value").rows.compactMap { $0.int("value") }
        }
        #expect(values == [1])
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test("BEGIN travels with a transaction's first statement and COMMIT with its last, in one transaction")
    func pipelinedTransaction() async throws {
        let table = TestEnvironment.uniqueName("pipe_")
        try await pool.withConnection { try $0.execute("CREATE TABLE \(table) (value integer PRIMARY KEY)") }
        let (first, last) = try await pool.transaction { connection -> (Int64?, Int64?) in
            let first = try connection.execute(
                prepared: "INSERT INTO \(table) VALUES ($1) RETURNING txid_current() AS t", [1]
            ).first?.int64("t")
            try connection.execute("INSERT INTO \(table) VALUES ($1)", [2])
            let last = try connection.executeAndCommit(
                prepared: "INSERT INTO \(table) VALUES ($1) RETURNING txid_current() AS t", [3]
            ).first?.int64("t")
            return (first, last)
        }
        #expect(first != nil && first == last)
        // Committed: another connection sees all three at once.
        let values = try await pool.withConnection {
            try $0.execute("SELECT value FROM \(table) ORDER BY value").rows.compactMap { $0.int("value") }
        }
        #expect(values == [1, 2, 3])
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test("a failing last statement keeps COMMIT from running: the whole transaction is rolled back")
    func pipelinedCommitAfterFailure() async throws {
        let table = TestEnvironment.uniqueName("pipe_")
        try await pool.withConnection { try $0.execute("CREATE TABLE \(table) (value integer PRIMARY KEY)") }
        try await pool.withConnection { try $0.execute("INSERT INTO \(table) VALUES (1)") }
        do {
            try await pool.transaction { connection in
                try connection.execute(prepared: "INSERT INTO \(table) VALUES ($1)", [2])
                try connection.executeAndCommit(prepared: "INSERT INTO \(table) VALUES ($1)", [1])
            }
            Issue.record("a duplicate key was committed")
        } catch let error as DatabaseError {
            // The statement's own error, not the skipped COMMIT's.
            #expect(error.isUniqueViolation)
        }
        for _ in 0..<6 {
            // Every connection of the pool is usable and outside any transaction afterwards.
            try await pool.withConnection {
                try $0.execute("INSERT INTO \(table) VALUES ($1) ON CONFLICT DO NOTHING", [9])
            }
        }
        let values = try await pool.withConnection {
            try $0.execute("SELECT value FROM \(table) ORDER BY value").rows.compactMap { $0.int("value") }
        }
        #expect(values == [1, 9])
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test("a first statement that fails with its BEGIN, or a multi-statement first text, leave the connection usable")
    func pipelinedFirstStatement() async throws {
        let table = TestEnvironment.uniqueName("pipe_")
        do {
            try await pool.transaction { connection in
                try connection.execute("SELECT * FROM \(table)_missing WHERE value = $1", [1])
            }
            Issue.record("a query on a missing table succeeded")
        } catch let error as DatabaseError {
            #expect(error.sqlState == "42P01")
            #expect(error.kind == .statement)
        }
        // Several statements as the first text of a transaction (a migration does this).
        try await pool.transaction { connection in
            try connection.execute("CREATE TABLE \(table) (value integer PRIMARY KEY); INSERT INTO \(table) VALUES (1)")
        }
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await pool.transaction { connection in
                try connection.execute("INSERT INTO \(table) VALUES (2); INSERT INTO \(table) VALUES (3)")
                throw Abort()
            }
        }
        let nothing = try await pool.transaction { _ in 42 }
        #expect(nothing == 42)
        for _ in 0..<6 {
            #expect(
                try await pool.withConnection { try $0.execute("SELECT count(*) AS n FROM \(table)").first?.int("n") }
                    == 1)
        }
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test(
        "a transaction whose failed statement was caught is reported, not taken for committed; nothing runs after its commit"
    )
    func transactionMisuse() async throws {
        let table = TestEnvironment.uniqueName("pipe_")
        try await pool.withConnection { try $0.execute("CREATE TABLE \(table) (value integer PRIMARY KEY)") }
        do {
            try await pool.transaction { connection in
                try connection.execute(prepared: "INSERT INTO \(table) VALUES ($1)", [1])
                _ = try? connection.execute("INSERT INTO \(table) VALUES ($1)", [1])
            }
            Issue.record("an aborted transaction was reported committed")
        } catch let error as DatabaseError {
            #expect(error.sqlState == "25P02")
        }
        do {
            try await pool.transaction { connection in
                try connection.executeAndCommit(prepared: "INSERT INTO \(table) VALUES ($1)", [2])
                try connection.execute("INSERT INTO \(table) VALUES ($1)", [3])
            }
            Issue.record("a statement after the commit ran")
        } catch let error as DatabaseError {
            #expect(error.sqlState == "25000")
        }
        let values = try await pool.withConnection {
            try $0.execute("SELECT value FROM \(table) ORDER BY value").rows.compactMap { $0.int("value") }
        }
        #expect(values == [2])
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test("a constraint violation carries its SQLSTATE and leaves the connection usable")
    func sqlState() async throws {
        let table = TestEnvironment.uniqueName("unique_")
        try await pool.withConnection { try $0.execute("CREATE TABLE \(table) (value integer PRIMARY KEY)") }
        try await pool.withConnection { try $0.execute("INSERT INTO \(table) VALUES (1)") }
        do {
            try await pool.withConnection { try $0.execute("INSERT INTO \(table) VALUES (1)") }
            Issue.record("a duplicate key was accepted")
        } catch let error as DatabaseError {
            #expect(error.isUniqueViolation)
            #expect(error.kind == .statement)
        }
        let count = try await pool.withConnection {
            try $0.execute("SELECT count(*) AS n FROM \(table)").first?.int("n")
        }
        #expect(count == 1)
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test("more callers than connections wait their turn")
    func contention() async throws {
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await pool.withConnection { connection in
                        try connection.execute("SELECT pg_sleep(0.01), $1::int AS n", [index]).first?.int("n") ?? -1
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<20))
    }

    @Test("migrations apply once, in order, and a second run applies nothing")
    func migrations() async throws {
        let component = TestEnvironment.uniqueName("component_")
        let table = TestEnvironment.uniqueName("migrated_")
        let migrations = [
            Migration(version: 2, name: "add column", sql: "ALTER TABLE \(table) ADD COLUMN note text"),
            Migration(version: 1, name: "create", sql: "CREATE TABLE \(table) (id integer PRIMARY KEY)"),
        ]
        let migrator = Migrator(pool: pool, logger: TestEnvironment.logger("migrations"))
        #expect(try await migrator.migrate(component: component, migrations) == [1, 2])
        #expect(try await migrator.migrate(component: component, migrations) == [])
        let columns = try await pool.withConnection {
            try $0.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY column_name",
                [table]
            ).rows.compactMap { $0.string("column_name") }
        }
        #expect(columns == ["id", "note"])
        try await pool.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test("instances that start together on a new database apply each migration once")
    func concurrentMigrations() async throws {
        // A schema of its own stands in for a new database.
        let schema = TestEnvironment.uniqueName("fresh_")
        try await pool.withConnection { try $0.execute("CREATE SCHEMA \(schema)") }
        let fresh = DatabasePool(
            connectionString: try TestEnvironment.testDatabaseURL() + " options='-c search_path=\(schema)'", size: 5,
            logger: TestEnvironment.logger("db"))
        defer { fresh.close() }
        let migrations = [Migration(version: 1, name: "create", sql: "CREATE TABLE things (id integer)")]
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<5 {
                group.addTask {
                    try await Migrator(pool: fresh, logger: TestEnvironment.logger("migrations"))
                        .migrate(component: "things", migrations)
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied == [1])
        try await pool.withConnection { try $0.execute("DROP SCHEMA \(schema) CASCADE") }
    }

    @Test("a failing migration applies nothing of its run")
    func failingMigration() async throws {
        let component = TestEnvironment.uniqueName("component_")
        let table = TestEnvironment.uniqueName("half_")
        let migrator = Migrator(pool: pool, logger: TestEnvironment.logger("migrations"))
        await #expect(throws: DatabaseError.self) {
            try await migrator.migrate(
                component: component,
                [
                    Migration(version: 1, name: "create", sql: "CREATE TABLE \(table) (id integer)"),
                    Migration(version: 2, name: "broken", sql: "ALTER TABLE \(table) ADD COLUMN"),
                ])
        }
        let exists = try await pool.withConnection {
            try $0.execute("SELECT to_regclass($1) IS NOT NULL AS present", [table]).first?.bool("present")
        }
        #expect(exists == false)
    }

    @Test("an unreachable server is a connection error that names the problem")
    func unreachable() async throws {
        let broken = DatabasePool(
            connectionString: "host=127.0.0.1 port=1 dbname=nothing connect_timeout=2", size: 1,
            logger: TestEnvironment.logger("db"))
        do {
            try await broken.withConnection { try $0.execute("SELECT 1") }
            Issue.record("connected to port 1")
        } catch let error as DatabaseError {
            #expect(error.kind == .connection)
            #expect(error.message.contains("127.0.0.1"))
        }
        #expect(await broken.isReachable() == false)
    }
}
