import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

/// The shared tables and their rules, against the real PostgreSQL (`kindred_test`).
@Suite("Outbox, inbox and projection positions")
struct ReliabilityTests {
    let pool: DatabasePool

    init() async throws {
        pool = DatabasePool(
            connectionString: try TestEnvironment.testDatabaseURL(), size: 2, logger: TestEnvironment.logger("db"))
        try await Migrator(pool: pool, logger: TestEnvironment.logger("migrations"))
            .migrate(component: SharedMigrations.component, SharedMigrations.all)
    }

    @Test("a projection applies a newer sequence and ignores an older or equal one")
    func ordering() async throws {
        let aggregate = UUID().uuidString
        let applied = try await pool.transaction { connection in
            try [3, 2, 3, 5, 4].map { sequence in
                try ProjectionPosition.advance(
                    projection: "tests", aggregate: aggregate, to: Int64(sequence), on: connection)
            }
        }
        #expect(applied == [true, false, false, true, false])
        let other = try await pool.transaction { connection in
            try ProjectionPosition.advance(projection: "other", aggregate: aggregate, to: 1, on: connection)
        }
        #expect(other, "positions are kept per projection")
    }

    @Test("the inbox claims a message once per queue")
    func inbox() async throws {
        let id = UUID().uuidString
        let claims = try await pool.transaction { connection in
            [
                try Inbox.claim(queue: "A.tests", messageID: id, on: connection),
                try Inbox.claim(queue: "A.tests", messageID: id, on: connection),
                try Inbox.claim(queue: "B.tests", messageID: id, on: connection),
            ]
        }
        #expect(claims == [true, false, true])
    }

    @Test("an event written to the outbox is kept encoded with its id, type and subject")
    func outbox() async throws {
        let userID = UUID()
        let envelope = Envelope(
            source: .profile, time: Date(), subject: userID.uuidString,
            data: ProfileCreated(userId: userID, sequence: 1), correlationID: "outbox-test")
        try await pool.transaction { try Outbox.append(envelope, on: $0) }
        let row = try await pool.withConnection { connection in
            try connection.execute(
                "SELECT event_type, subject, correlation_id, body, published_at FROM outbox WHERE event_id = $1",
                [envelope.id]
            ).first
        }
        #expect(row?.string("event_type") == "ProfileCreated")
        #expect(row?.string("subject") == userID.uuidString)
        #expect(row?.string("correlation_id") == "outbox-test")
        #expect(row?.string("published_at") == nil)
        let decoded = try EnvelopeCodec().decode(ProfileCreated.self, from: Array((row?.string("body") ?? "").utf8))
        #expect(decoded.id == envelope.id)
        try await pool.withConnection { try $0.execute("DELETE FROM outbox WHERE event_id = $1", [envelope.id]) }
    }

    @Test("redeliveries are counted per queue and message in the database, so the count outlives a crash")
    func redeliveryCounts() async throws {
        let counter = RedeliveryCounter(pool: pool)
        let key = UUID().uuidString
        var counts: [Int] = []
        for _ in 0..<3 { counts.append(try await counter.recordRedelivery(queue: "A.tests", messageKey: key)) }
        counts.append(try await counter.recordRedelivery(queue: "B.tests", messageKey: key))
        #expect(counts == [1, 2, 3, 1])
        let long = UUID().uuidString + String(repeating: "k", count: 10_000)
        #expect(try await counter.recordRedelivery(queue: "A.tests", messageKey: long) == 1)
    }

    @Test("readiness is checked at most once per cache period, and seen again after it")
    func readinessIsCached() async throws {
        let clock = Mutex(ContinuousClock.now)
        let checked = DatabasePool(
            connectionString: try TestEnvironment.testDatabaseURL(), size: 1, logger: TestEnvironment.logger("db"))
        let readiness = Readiness(connections: [], pool: checked, now: { clock.withLock { $0 } })
        readiness.markStarted()
        #expect(await readiness.problems() == [])
        checked.close()
        #expect(await readiness.problems() == [], "within the second, the answer is the one just found")
        clock.withLock { $0 += .seconds(2) }
        #expect(await readiness.problems() == ["database unreachable"])
    }
}
