import Contracts
import Foundation
import Messaging
import Synchronization
import TestSupport
import Testing

/// Against the real RabbitMQ that scripts/test starts. Every test declares its own
/// exchange and queues, so tests never see each other's (or the suite's) messages.
@Suite("rabbitmq-c connection: confirms, consuming, acks, rejects, dead letters, request/reply")
struct MessagingTests {
    let connection: AMQPConnection
    let exchange: String

    init() throws {
        connection = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "tests", logger: TestEnvironment.logger("amqp"))
        exchange = TestEnvironment.uniqueName("test.")
    }

    /// A queue bound to the test's exchange with `routingKey`, auto-deleted at the end.
    func declareQueue(_ routingKey: String, dead: Bool = false) async throws -> String {
        let queue = TestEnvironment.uniqueName("\(routingKey).tests.")
        var queues = [
            QueueDeclaration(
                name: queue, durable: false, autoDelete: false,
                bindings: [Binding(exchange: exchange, routingKey: routingKey)])
        ]
        if dead { queues.append(QueueDeclaration(name: EventRegistry.deadQueueName(for: queue), durable: false)) }
        try await connection.declare(
            Topology(exchanges: [ExchangeDeclaration(name: exchange, durable: false)], queues: queues))
        return queue
    }

    func message(_ routingKey: String, body: String, id: String = UUID().uuidString) -> OutgoingMessage {
        OutgoingMessage(
            exchange: exchange, routingKey: routingKey, body: Array(body.utf8),
            properties: MessageProperties(
                messageID: id, type: routingKey, correlationID: "corr-\(id)", appID: "tests",
                headers: ["x-test": .string("yes"), "x-count": .int(3)]),
            mandatory: true)
    }

    func next(_ deliveries: AsyncThrowingStream<Delivery, any Error>) async throws -> Delivery? {
        var iterator = deliveries.makeAsyncIterator()
        return try await iterator.next()
    }

    @Test("a confirmed publish is consumed with its properties, and an ack removes it")
    func publishConsumeAck() async throws {
        defer { connection.close() }
        let queue = try await declareQueue("Published")
        try await connection.publish(message("Published", body: "hello", id: "m-1"))
        #expect(try await connection.status(ofQueue: queue) == QueueStatus(messages: 1, consumers: 0))
        let deliveries = try await connection.consume(queue: queue, prefetch: 10)
        let delivery = try #require(try await next(deliveries))
        #expect(String(decoding: delivery.body, as: UTF8.self) == "hello")
        #expect(delivery.properties.messageID == "m-1")
        #expect(delivery.properties.correlationID == "corr-m-1")
        #expect(delivery.properties.type == "Published")
        #expect(delivery.properties.appID == "tests")
        #expect(delivery.properties.persistent)
        #expect(delivery.properties.headers["x-test"] == .string("yes"))
        #expect(delivery.properties.headers["x-count"] == .int(3))
        #expect(delivery.queue == queue)
        connection.acknowledge(delivery)
        let settled = try await eventually { try await connection.status(ofQueue: queue)?.messages == 0 }
        #expect(settled)
    }

    @Test("a mandatory publish that matches no queue fails as unroutable")
    func unroutable() async throws {
        defer { connection.close() }
        _ = try await declareQueue("Bound")
        await #expect(throws: AMQPError.unroutable(exchange: exchange, routingKey: "Nobody")) {
            try await connection.publish(message("Nobody", body: "lost?"))
        }
        // The connection is still usable afterwards.
        try await connection.publish(message("Bound", body: "kept"))
    }

    @Test("a rejected message with requeue comes back marked redelivered; without, it is gone")
    func reject() async throws {
        defer { connection.close() }
        let queue = try await declareQueue("Rejected")
        try await connection.publish(message("Rejected", body: "again"))
        let deliveries = try await connection.consume(queue: queue, prefetch: 1)
        var iterator = deliveries.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(!first.redelivered)
        connection.reject(first, requeue: true)
        let second = try #require(try await iterator.next())
        #expect(second.redelivered)
        #expect(second.body == first.body)
        connection.reject(second, requeue: false)
        let gone = try await eventually { try await connection.status(ofQueue: queue)?.messages == 0 }
        #expect(gone)
    }

    @Test("a missing queue reports nil and the connection keeps working")
    func missingQueue() async throws {
        defer { connection.close() }
        #expect(try await connection.status(ofQueue: TestEnvironment.uniqueName("missing.")) == nil)
        let queue = try await declareQueue("StillWorks")
        try await connection.publish(message("StillWorks", body: "ok"))
        #expect(try await connection.status(ofQueue: queue)?.messages == 1)
    }

    @Test("a consumer dead-letters garbage, unknown types and versions with distinct reasons and keeps going")
    func poisonMessages() async throws {
        defer { connection.close() }
        let queue = try await declareQueue("UserRegistered", dead: true)
        let handled = Counter()
        let consumer = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: ["UserRegistered"], prefetch: 10,
            logger: TestEnvironment.logger("consumer")
        ) { header, _ in
            if header.subject == "explode" { throw TestFailure() }
            handled.increment()
        }
        let task = Task { try await consumer.run() }
        defer { task.cancel() }

        let codec = EnvelopeCodec()
        func envelope(subject: String) throws -> String {
            let data = UserRegistered(userId: UUID(), email: "a@example.com", registeredAt: Date())
            let envelope = Envelope(source: .gateway, time: Date(), subject: subject, data: data, correlationID: "c")
            return String(decoding: try codec.encode(envelope), as: UTF8.self)
        }
        let good = try envelope(subject: "fine")
        try await connection.publish(message("UserRegistered", body: "\u{1}garbage"))
        try await connection.publish(
            message("UserRegistered", body: good.replacingOccurrences(of: "\"UserRegistered\"", with: "\"Nope\"")))
        try await connection.publish(
            message(
                "UserRegistered", body: good.replacingOccurrences(of: "\"dataversion\":1", with: "\"dataversion\":9")))
        try await connection.publish(message("UserRegistered", body: try envelope(subject: "explode")))
        try await connection.publish(message("UserRegistered", body: good))

        let dead = EventRegistry.deadQueueName(for: queue)
        let arrived = try await eventually { try await connection.status(ofQueue: dead)?.messages == 4 }
        #expect(arrived)
        #expect(try await eventually { handled.value == 1 })

        let deadDeliveries = try await connection.consume(queue: dead, prefetch: 10)
        var reasons: [String] = []
        for try await delivery in deadDeliveries {
            reasons.append(delivery.properties.headers[DeadLetterHeader.reason]?.stringValue ?? "?")
            #expect(delivery.properties.headers[DeadLetterHeader.originalQueue] == .string(queue))
            #expect(delivery.properties.headers[DeadLetterHeader.error]?.stringValue?.isEmpty == false)
            connection.acknowledge(delivery)
            if reasons.count == 4 { break }
        }
        #expect(reasons.sorted() == ["handler-failed", "malformed", "unaccepted-version", "unknown-type"])
    }

    @Test("a request gets its reply, and a request nobody answers expires at its deadline")
    func requestReply() async throws {
        defer { connection.close() }
        let requests = try await declareQueue(ProfileRequested.eventType.rawValue)
        let client = RequestReplyClient(
            connection: connection, service: .gateway, instance: TestEnvironment.uniqueName(""),
            logger: TestEnvironment.logger("rpc"), exchange: exchange)
        let listener = Task { try await client.run() }
        defer { listener.cancel() }
        let publisher = EventPublisher(connection: connection, service: .profile)
        let responder = EventConsumer(
            connection: connection, queue: requests, acceptedTypes: [ProfileRequested.eventType],
            logger: TestEnvironment.logger("responder")
        ) { _, delivery in
            let request = try EnvelopeCodec().decode(ProfileRequested.self, from: delivery.body)
            let profile = ProfileDocument(userId: request.data.userId, displayName: "Ada", updatedAt: Date())
            let reply = Envelope(
                causedBy: request, source: .profile, time: Date(), subject: request.subject,
                data: ProfileFound(profile: profile))
            try await publisher.reply(reply, to: delivery.properties.replyTo ?? "")
        }
        let responding = Task { try await responder.run() }
        let userID = UUID()
        let request = Envelope(
            source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: userID), correlationID: "rr")
        let reply = try await client.request(request, timeout: .seconds(10))
        #expect(reply.data.profile.userId == userID)
        #expect(reply.data.profile.displayName == "Ada")
        #expect(reply.causationid == request.id.uuidString)
        #expect(reply.correlationid == "rr")

        responding.cancel()
        _ = await responding.result
        let unanswered = Envelope(
            source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: userID), correlationID: "rr2")
        await #expect(throws: RequestError.deadlineExceeded) {
            try await client.request(unanswered, timeout: .milliseconds(300))
        }
    }

    @Test("without a broker, publishing fails at once and the connection says why")
    func unreachableBroker() async throws {
        let nowhere = AMQPConnection(
            endpoint: AMQPEndpoint(host: "127.0.0.1", port: 1, user: "nobody", password: "nothing"),
            name: "nowhere", logger: TestEnvironment.logger("amqp"))
        defer { nowhere.close() }
        #expect(!nowhere.isConnected)
        await #expect(throws: AMQPError.self) {
            try await nowhere.publish(
                OutgoingMessage(exchange: "", routingKey: "x", body: [], properties: MessageProperties()))
        }
        #expect(try await eventually { nowhere.lastError.contains("127.0.0.1:1") })
    }

    @Test("AMQP URLs parse with percent-encoded parts and a default port")
    func urls() throws {
        let endpoint = try AMQPEndpoint(url: "amqp://kindred_profile:p%40ss@127.0.0.1/kindred")
        #expect(endpoint.user == "kindred_profile")
        #expect(endpoint.password == "p@ss")
        #expect(endpoint.port == 5672)
        #expect(endpoint.virtualHost == "kindred")
        #expect(!endpoint.description.contains("p@ss"))
        #expect(try AMQPEndpoint(url: "amqp://u:p@h:5673/%2F").virtualHost == "/")
        #expect(throws: AMQPError.self) { try AMQPEndpoint(url: "http://example.com") }
    }
}

struct TestFailure: Error {}

/// A thread-safe counter for handlers.
final class Counter: Sendable {
    private let storage = Mutex(0)
    func increment() { storage.withLock { $0 += 1 } }
    var value: Int { storage.withLock { $0 } }
}
