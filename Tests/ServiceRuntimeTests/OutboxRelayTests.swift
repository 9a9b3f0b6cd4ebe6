import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime
import TestSupport
import Testing

/// The outbox relay against a database of its own (so no other test's rows are published)
/// and an exchange of its own on the real broker.
@Suite("Outbox relay: rows set aside, returned events kept", .serialized)
struct OutboxRelayTests {
    /// A new database with the shared tables, dropped by `close`.
    struct Scratch {
        let database: ScratchDatabase
        let broker: AMQPConnection
        let exchange: String

        var pool: DatabasePool { database.pool }

        static func make() async throws -> Scratch {
            let database = try await ScratchDatabase.make([(SharedMigrations.component, SharedMigrations.all)])
            let broker = AMQPConnection(
                endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "relay-tests",
                logger: TestEnvironment.logger("amqp"))
            let exchange = TestEnvironment.uniqueName("relay.")
            try await broker.declare(Topology(exchanges: [ExchangeDeclaration(name: exchange, durable: false)]))
            return Scratch(database: database, broker: broker, exchange: exchange)
        }

        func relay(maxMessageBytes: Int = ConsumerLimits.defaultMaxMessageBytes) -> OutboxRelay {
            OutboxRelay(
                pool: pool, publisher: EventPublisher(connection: broker, service: .profile),
                logger: TestEnvironment.logger("relay"), maxMessageBytes: maxMessageBytes, exchange: exchange)
        }

        /// A queue on the scratch exchange bound to `type`.
        func queue(for type: String) async throws -> String {
            let queue = TestEnvironment.uniqueName("\(type).relay-tests.")
            try await broker.declare(
                Topology(queues: [
                    QueueDeclaration(
                        name: queue, durable: false, arguments: ["x-expires": .int(60_000)],
                        bindings: [Binding(exchange: exchange, routingKey: type)])
                ]))
            return queue
        }

        /// Writes a row as a service's code would, with any body.
        func insert(type: String, body: String) async throws -> UUID {
            let id = UUID()
            try await pool.withConnection { connection in
                try connection.execute(
                    """
                    INSERT INTO outbox (event_id, event_type, subject, correlation_id, occurred_at, body)
                    VALUES ($1, $2, NULL, 'relay-test', now(), $3)
                    """, [id, type, body])
            }
            return id
        }

        func row(_ id: UUID) async throws -> Row? {
            try await pool.withConnection { connection in
                try connection.execute(
                    """
                    SELECT published_at, set_aside_at, last_error, attempts,
                           next_attempt_at > now() AS waiting
                    FROM outbox WHERE event_id = $1
                    """, [id]
                ).first
            }
        }

        func close() async {
            broker.close()
            await database.drop()
        }
    }

    func envelope() throws -> String {
        let userID = UUID()
        let envelope = Envelope(
            source: .profile, time: Date(), subject: userID.uuidString,
            data: ProfileCreated(userId: userID, sequence: 1), correlationID: "relay-test")
        return String(decoding: try EnvelopeCodec().encode(envelope), as: UTF8.self)
    }

    @Test("a row too large to publish is set aside with its reason; rows no consumer accepts are still published")
    func unpublishableRowsDoNotStopTheRelay() async throws {
        let scratch = try await Scratch.make()
        let queue = try await scratch.queue(for: "ProfileCreated")
        let good = try await scratch.insert(type: "ProfileCreated", body: try envelope())
        // A version no consumer accepts: the relay used to decode each row with the
        // consumers' rules, roll the batch back, and pick it again forever.
        let unaccepted = try await scratch.insert(
            type: "ProfileCreated",
            body: try envelope().replacingOccurrences(of: "\"dataversion\":1", with: "\"dataversion\":99"))
        let large = try await scratch.insert(type: "ProfileCreated", body: String(repeating: "x", count: 3000))
        let relay = scratch.relay(maxMessageBytes: 2048)
        await relay.drain()

        #expect(try await scratch.row(good)?.string("published_at") != nil)
        #expect(try await scratch.row(unaccepted)?.string("published_at") != nil)
        let setAside = try #require(try await scratch.row(large))
        #expect(setAside.string("published_at") == nil)
        #expect(setAside.string("set_aside_at") != nil)
        #expect(setAside.string("last_error")?.hasPrefix("too-large") == true)
        #expect(try await eventually { try await scratch.broker.status(ofQueue: queue)?.messages == 2 })

        // The relay goes on with what comes after, and leaves the set-aside row alone.
        let later = try await scratch.insert(type: "ProfileCreated", body: try envelope())
        await relay.drain()
        #expect(try await scratch.row(later)?.string("published_at") != nil)
        #expect(try await eventually { try await scratch.broker.status(ofQueue: queue)?.messages == 3 })
        await scratch.close()
    }

    @Test("an event its consumers' queues are missing for is returned, stays unsent, and goes out once they exist")
    func returnedEventsStayUnsent() async throws {
        let scratch = try await Scratch.make()
        // UserRegistered names a consumer (profile): it is published mandatory. The scratch
        // exchange has no queue bound for it yet.
        let event = try await scratch.insert(type: "UserRegistered", body: try envelope())
        // ProfileCreated names none: nobody waiting, nothing to keep.
        let unwatched = try await scratch.insert(type: "ProfileCreated", body: try envelope())
        let relay = scratch.relay()
        await relay.drain()
        let waiting = try #require(try await scratch.row(event))
        #expect(waiting.string("published_at") == nil, "a returned event is not marked sent")
        #expect(waiting.string("attempts") == "1")
        #expect(waiting.string("waiting") == "t", "it waits before the next try")
        #expect(waiting.string("last_error")?.contains("no queue is bound") == true)
        #expect(try await scratch.row(unwatched)?.string("published_at") != nil)

        let queue = try await scratch.queue(for: "UserRegistered")
        try await scratch.pool.withConnection { connection in
            try connection.execute("UPDATE outbox SET next_attempt_at = now() WHERE event_id = $1", [event])
        }
        await relay.drain()
        #expect(try await scratch.row(event)?.string("published_at") != nil)
        #expect(try await eventually { try await scratch.broker.status(ofQueue: queue)?.messages == 1 })
        await scratch.close()
    }

    @Test("a row the broker refuses (over its max_message_size) is found one at a time and set aside; the rest go")
    func refusedRowIsIsolated() async throws {
        let scratch = try await Scratch.make()
        let queue = try await scratch.queue(for: "ProfileCreated")
        let before = try await scratch.insert(type: "ProfileCreated", body: try envelope())
        // Larger than the broker takes (16 MiB), smaller than this relay's own limit: only the
        // broker's refusal, which closes the channel, can stop it.
        let refused = try await scratch.insert(
            type: "ProfileCreated", body: String(repeating: "x", count: ConsumerLimits.defaultMaxMessageBytes + 1))
        let after = try await scratch.insert(type: "ProfileCreated", body: try envelope())
        let relay = scratch.relay(maxMessageBytes: 2 * ConsumerLimits.defaultMaxMessageBytes)
        let isolated = try await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            await relay.drain()
            return try await scratch.row(refused)?.string("set_aside_at") != nil
        }
        #expect(isolated, "the refused row was never set aside")
        #expect(try await scratch.row(refused)?.string("last_error")?.hasPrefix("refused") == true)
        _ = try await eventually {
            await relay.drain()
            return try await scratch.row(after)?.string("published_at") != nil
        }
        #expect(try await scratch.row(before)?.string("published_at") != nil)
        #expect(try await scratch.row(after)?.string("published_at") != nil)
        #expect(try await eventually { try await scratch.broker.status(ofQueue: queue)?.messages == 2 })
        await scratch.close()
    }
}
