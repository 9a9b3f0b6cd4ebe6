import Foundation
import Persistence
import TestSupport
import Testing

/// A database that is slow or a pool that is busy fails a caller in bounded time.
@Suite("libpq pool limits: acquire timeout, statement timeout, NUL text")
struct PoolLimitsTests {
    @Test("a caller waiting for a busy pool fails with a connection error after the acquire timeout")
    func acquireTimeout() async throws {
        let pool = DatabasePool(
            connectionString: try TestEnvironment.testDatabaseURL(), size: 1, logger: TestEnvironment.logger("db"),
            acquireTimeout: .milliseconds(200))
        defer { pool.close() }
        // Holds the only connection until the waiter has given up.
        let holder = Task { try await pool.withConnection { try $0.execute("SELECT pg_sleep(2)") } }
        try await Task.sleep(for: .milliseconds(100))
        do {
            try await pool.withConnection { try $0.execute("SELECT 1") }
            Issue.record("got a connection while the only one was busy")
        } catch let error as DatabaseError {
            #expect(error.kind == .connection)
            #expect(error.message.contains("no database connection came free"))
        }
        _ = try await holder.value
        #expect(try await pool.withConnection { try $0.execute("SELECT 1 AS one").first?.int("one") } == 1)
    }

    @Test("a statement running past statement_timeout is cancelled by the server; the string can override it")
    func statementTimeout() async throws {
        let pool = DatabasePool(
            connectionString: try TestEnvironment.testDatabaseURL(), size: 1, logger: TestEnvironment.logger("db"),
            defaults: ConnectionDefaults(connectTimeoutSeconds: 5, statementTimeoutMilliseconds: 100))
        defer { pool.close() }
        do {
            try await pool.withConnection { try $0.execute("SELECT pg_sleep(5)") }
            Issue.record("a 5 s statement ran past a 100 ms statement_timeout")
        } catch let error as DatabaseError {
            #expect(error.sqlState == "57014", "\(error)")
        }
        #expect(
            try await pool.withConnection {
                try $0.execute("SHOW statement_timeout").first?.string("statement_timeout")
            } == "100ms")
        let overridden = DatabasePool(
            connectionString: try TestEnvironment.testDatabaseURL() + " options='-c statement_timeout=7s'", size: 1,
            logger: TestEnvironment.logger("db"),
            defaults: ConnectionDefaults(connectTimeoutSeconds: 5, statementTimeoutMilliseconds: 100))
        defer { overridden.close() }
        #expect(
            try await overridden.withConnection {
                try $0.execute("SHOW statement_timeout").first?.string("statement_timeout")
            } == "7s")
    }

    @Test("text with a NUL character is refused before it reaches libpq, which would cut it")
    func nulText() async throws {
        let pool = DatabasePool(
            connectionString: try TestEnvironment.testDatabaseURL(), size: 1, logger: TestEnvironment.logger("db"))
        defer { pool.close() }
        do {
            try await pool.withConnection { try $0.execute("SELECT $1::text", ["before\u{0}after"]) }
            Issue.record("a NUL went through")
        } catch let error as DatabaseError {
            #expect(error.kind == .statement)
            #expect(error.message.contains("NUL"))
        }
    }
}

@Suite("libpq over TLS")
struct PostgresTLSTests {
    @Test("sslmode=verify-full against the local CA connects encrypted; a bundle that does not know it is refused")
    func verifyFull() async throws {
        let ca = try TestEnvironment.value("KINDRED_TLS_CA_FILE")
        // The certificate names localhost; verify-full checks that name.
        let base = try TestEnvironment.testDatabaseURL().replacingOccurrences(
            of: "host=127.0.0.1", with: "host=localhost")
        let secure = DatabasePool(
            connectionString: base + " sslmode=verify-full sslrootcert=\(ca)", size: 1,
            logger: TestEnvironment.logger("db"))
        defer { secure.close() }
        let encrypted = try await secure.withConnection { connection in
            try connection.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.bool("ssl")
        }
        #expect(encrypted == true)
        let strangers = DatabasePool(
            connectionString: base + " sslmode=verify-full sslrootcert=/etc/ssl/certs/ca-certificates.crt", size: 1,
            logger: TestEnvironment.logger("db"))
        defer { strangers.close() }
        do {
            try await strangers.withConnection { try $0.execute("SELECT 1") }
            Issue.record("connected to a server whose certificate it could not verify")
        } catch let error as DatabaseError {
            #expect(error.kind == .connection)
            #expect(error.message.contains("certificate"), "\(error)")
        }
    }
}
