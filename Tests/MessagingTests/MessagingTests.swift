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
    func declareQueue(_ routingKey: String, dead: Bool = false, retry: RetryPolicy? = nil) async throws -> String {
        let queue = TestEnvironment.uniqueName("\(routingKey).tests.")
        // Removed by the broker a minute after the test stops using them.
        let expiring: [String: HeaderValue] = ["x-expires": .int(60_000)]
        var queues = [
            QueueDeclaration(
                name: queue, durable: false, arguments: expiring,
                bindings: [Binding(exchange: exchange, routingKey: routingKey)])
        ]
        if let retry { queues += retry.queues(for: queue, arguments: expiring) }
        if dead {
            queues.append(
                QueueDeclaration(name: EventRegistry.deadQueueName(for: queue), durable: false, arguments: expiring))
        }
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

    @Test("a batch is published in order with one outcome per message; acks sent just before close still count")
    func batchAndAcksBeforeClose() async throws {
        defer { connection.close() }
        let queue = try await declareQueue("Batch")
        let ids = (0..<200).map { "b-\($0)" }
        var batch = ids.map { message("Batch", body: $0, id: $0) }
        batch.insert(message("Nobody", body: "lost"), at: 100)
        let outcomes = await connection.publishEach(batch)
        #expect(outcomes.count == 201)
        #expect(
            outcomes.enumerated().allSatisfy { index, outcome in
                if case .failure = outcome { return index == 100 } else { return index != 100 }
            })
        await #expect(throws: AMQPError.unroutable(exchange: exchange, routingKey: "Nobody")) {
            try await connection.publish(batch)
        }

        // A connection of its own takes the first 200, acknowledges them all and closes at
        // once: the acknowledgements still reach the broker before the channel closes.
        let reader = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "tests-reader",
            logger: TestEnvironment.logger("amqp"))
        var received: [String] = []
        do {
            let deliveries = try await reader.consume(queue: queue, prefetch: 500)
            for try await delivery in deliveries {
                received.append(String(decoding: delivery.body, as: UTF8.self))
                reader.acknowledge(delivery)
                if received.count == 200 { break }
            }
        }
        reader.close()
        #expect(received == ids, "published in order")
        let closed = try await eventually { try await connection.status(ofQueue: queue)?.consumers == 0 }
        #expect(closed)
        #expect(try await connection.status(ofQueue: queue)?.messages == 200, "only the second batch is left")
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
        // No retries: a failing handler's message goes straight to .dead.
        let consumer = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: ["UserRegistered"], prefetch: 10,
            retryPolicy: RetryPolicy(delays: []), logger: TestEnvironment.logger("consumer")
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

    func registeredEnvelope(subject: String) throws -> String {
        let data = UserRegistered(userId: UUID(), email: "a@example.com", registeredAt: Date())
        let envelope = Envelope(source: .gateway, time: Date(), subject: subject, data: data, correlationID: "c")
        return String(decoding: try EnvelopeCodec().encode(envelope), as: UTF8.self)
    }

    @Test("a handler that fails twice then succeeds is processed once, after two retries")
    func retryThenSucceed() async throws {
        defer { connection.close() }
        let policy = RetryPolicy(delays: [.milliseconds(100), .milliseconds(200), .milliseconds(300)])
        let queue = try await declareQueue("UserRegistered", dead: true, retry: policy)
        let runs = Counter()
        let succeededOnAttempt = Mutex<Int64?>(nil)
        let consumer = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: ["UserRegistered"], retryPolicy: policy,
            logger: TestEnvironment.logger("consumer")
        ) { _, delivery in
            runs.increment()
            if runs.value <= 2 { throw TestFailure() }
            succeededOnAttempt.withLock { $0 = delivery.properties.headers[DeadLetterHeader.attempts]?.intValue }
        }
        let task = Task { try await consumer.run() }
        defer { task.cancel() }
        try await connection.publish(message("UserRegistered", body: try registeredEnvelope(subject: "flaky")))
        #expect(try await eventually { succeededOnAttempt.withLock { $0 } != nil })
        try await Task.sleep(for: .milliseconds(500))
        #expect(runs.value == 3)
        #expect(succeededOnAttempt.withLock { $0 } == 2)
        #expect(try await connection.status(ofQueue: EventRegistry.deadQueueName(for: queue))?.messages == 0)
        #expect(policy.queueName(for: queue, retry: 1) == "\(queue).retry.100ms")
    }

    @Test("a handler that always fails ends in .dead after its retries; the messages behind it go through meanwhile")
    func retryThenDead() async throws {
        defer { connection.close() }
        let policy = RetryPolicy(delays: [.milliseconds(200), .milliseconds(400)])
        let queue = try await declareQueue("UserRegistered", dead: true, retry: policy)
        let history = Mutex<[String]>([])
        let consumer = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: ["UserRegistered"], retryPolicy: policy,
            logger: TestEnvironment.logger("consumer")
        ) { header, _ in
            if header.subject == "poison" {
                history.withLock { $0.append("failed") }
                throw TestFailure()
            }
            history.withLock { $0.append("handled") }
        }
        let task = Task { try await consumer.run() }
        defer { task.cancel() }
        try await connection.publish(message("UserRegistered", body: try registeredEnvelope(subject: "poison")))
        for index in 0..<5 {
            try await connection.publish(
                message("UserRegistered", body: try registeredEnvelope(subject: "good-\(index)")))
        }
        let dead = EventRegistry.deadQueueName(for: queue)
        #expect(try await eventually { try await connection.status(ofQueue: dead)?.messages == 1 })
        let events = history.withLock { $0 }
        #expect(events.filter { $0 == "failed" }.count == 3)
        #expect(events.filter { $0 == "handled" }.count == 5)
        #expect(events.lastIndex(of: "handled") ?? 99 < events.lastIndex(of: "failed") ?? 0)

        let deliveries = try await connection.consume(queue: dead, prefetch: 1)
        let deadMessage = try #require(try await next(deliveries))
        let headers = deadMessage.properties.headers
        #expect(headers[DeadLetterHeader.reason] == .string("handler-failed"))
        #expect(headers[DeadLetterHeader.attempts] == .int(3))
        #expect(headers[DeadLetterHeader.originalQueue] == .string(queue))
        #expect(headers[DeadLetterHeader.error]?.stringValue?.contains("TestFailure") == true)
        let first = try #require(headers[DeadLetterHeader.firstFailedAt]?.stringValue.flatMap(Timestamp.parse))
        let last = try #require(headers[DeadLetterHeader.lastFailedAt]?.stringValue.flatMap(Timestamp.parse))
        #expect(last.timeIntervalSince(first) >= 0.5)
        connection.acknowledge(deadMessage)
    }

    @Test("a service's broker user cannot consume another service's queue")
    func leastPrivilege() async throws {
        defer { connection.close() }
        try await connection.declare(Topology.forService(.profile, queueType: .classic))
        let gateway = AMQPConnection(
            endpoint: try AMQPEndpoint(url: try TestEnvironment.amqpURL(of: "gateway")), name: "gateway-user",
            logger: TestEnvironment.logger("amqp"))
        defer { gateway.close() }
        do {
            _ = try await gateway.consume(queue: "UserRegistered.profile", prefetch: 1)
            Issue.record("the gateway's user consumed the profile service's queue")
        } catch let error as AMQPError {
            #expect("\(error)".contains("403"), "\(error)")
        }
        do {
            try await gateway.declare(Topology(queues: [QueueDeclaration(name: "Sneaky.profile", durable: false)]))
            Issue.record("the gateway's user declared a queue of the profile service")
        } catch let error as AMQPError {
            #expect("\(error)".contains("403"), "\(error)")
        }
    }

    @Test("a request gets its reply through direct reply-to, and a request nobody answers expires at its deadline")
    func requestReply() async throws {
        defer { connection.close() }
        let requests = try await declareQueue(ProfileRequested.eventType.rawValue)
        let client = RequestReplyClient(
            publishing: connection, service: .gateway, logger: TestEnvironment.logger("rpc"), exchange: exchange)
        let responding = answerProfileRequests(from: requests)
        let userID = UUID()
        let request = Envelope(
            source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: userID), correlationID: "rr")
        let reply = try await client.request(request, timeout: .seconds(10))
        #expect(reply.data.profile.userId == userID)
        #expect(reply.data.profile.displayName == "Ada")
        #expect(reply.causationid == request.id.uuidString)
        #expect(reply.correlationid == "rr")
        // Many at once, each matched to its own request by correlation_id.
        let ids = (0..<50).map { _ in UUID() }
        let answered = try await withThrowingTaskGroup(of: (UUID, UUID).self) { group in
            for id in ids {
                group.addTask {
                    let envelope = Envelope(
                        source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: id),
                        correlationID: "many")
                    return (id, try await client.request(envelope, timeout: .seconds(10)).data.profile.userId)
                }
            }
            var pairs: [(UUID, UUID)] = []
            for try await pair in group { pairs.append(pair) }
            return pairs
        }
        #expect(answered.count == ids.count)
        #expect(answered.allSatisfy { $0.0 == $0.1 })

        responding.cancel()
        _ = await responding.result
        let unanswered = Envelope(
            source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: userID), correlationID: "rr2")
        let started = ContinuousClock.now
        await #expect(throws: RequestError.deadlineExceeded) {
            try await client.request(unanswered, timeout: .milliseconds(300))
        }
        // One deadline mechanism on the owner thread: on time, not at its next poll.
        #expect(ContinuousClock.now - started < .milliseconds(900))
    }

    @Test("a requester that names where to be resumed is resumed there, answered or expired")
    func requestResumedWhereAsked() async throws {
        defer { connection.close() }
        let requests = try await declareQueue(ProfileRequested.eventType.rawValue)
        let scheduled = Mutex(0)
        let queue = DispatchQueue(label: "resume-here")
        let client = RequestReplyClient(
            publishing: connection, service: .gateway, logger: TestEnvironment.logger("rpc"), exchange: exchange,
            resumeOn: {
                { job in
                    scheduled.withLock { $0 += 1 }
                    queue.async(execute: job)
                }
            })
        let responding = answerProfileRequests(from: requests)
        let userID = UUID()
        let reply = try await client.request(
            Envelope(
                source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: userID),
                correlationID: "here"), timeout: .seconds(10))
        #expect(reply.data.profile.userId == userID)
        #expect(scheduled.withLock { $0 } == 1)
        responding.cancel()
        _ = await responding.result
        await #expect(throws: RequestError.deadlineExceeded) {
            try await client.request(
                Envelope(
                    source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: userID),
                    correlationID: "late"), timeout: .milliseconds(200))
        }
        #expect(scheduled.withLock { $0 } == 2)
    }

    @Test("a request no queue takes comes back from the broker and fails at once, not at its deadline")
    func unroutableRequest() async throws {
        defer { connection.close() }
        try await connection.declare(Topology(exchanges: [ExchangeDeclaration(name: exchange, durable: false)]))
        let client = RequestReplyClient(
            publishing: connection, service: .gateway, logger: TestEnvironment.logger("rpc"), exchange: exchange)
        let request = Envelope(
            source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: UUID()), correlationID: "nq")
        let started = ContinuousClock.now
        do {
            _ = try await client.request(request, timeout: .seconds(20))
            Issue.record("a request no queue takes was answered")
        } catch {
            guard case .unavailable(let why) = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
            #expect(why.contains("no queue is bound"), "\(why)")
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("a reply from a broker user the requester does not trust is dropped: the request runs out")
    func untrustedReply() async throws {
        defer { connection.close() }
        let requests = try await declareQueue(ProfileRequested.eventType.rawValue)
        let client = RequestReplyClient(
            publishing: connection, service: .gateway, logger: TestEnvironment.logger("rpc"), exchange: exchange,
            trustedRepliers: ["kindred_profile"])
        // The responder answers as the admin user, which this client does not take answers from.
        let responding = answerProfileRequests(from: requests)
        defer { responding.cancel() }
        let request = Envelope(
            source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: UUID()), correlationID: "ut")
        await #expect(throws: RequestError.deadlineExceeded) {
            try await client.request(request, timeout: .milliseconds(800))
        }
    }

    @Test("acknowledgements sent out of order settle exactly the messages acknowledged")
    func outOfOrderAcknowledgements() async throws {
        let queue = try await declareQueue("Acked")
        for index in 0..<10 { try await connection.publish(message("Acked", body: "\(index)")) }
        let consumer = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "acker", logger: TestEnvironment.logger("amqp"))
        let deliveries = try await consumer.consume(queue: queue, prefetch: 10)
        var taken: [Delivery] = []
        for try await delivery in deliveries {
            taken.append(delivery)
            if taken.count == 10 { break }
        }
        // All but the first and the sixth, in reverse order: the acks of one pass coalesce
        // into `multiple` acks only over runs with no unsettled message in between.
        for delivery in taken.reversed() where delivery.body != Array("0".utf8) && delivery.body != Array("5".utf8) {
            consumer.acknowledge(delivery)
        }
        // Closing gives back exactly the two unacknowledged ones.
        consumer.close()
        #expect(try await eventually { try await connection.status(ofQueue: queue)?.messages == 2 })
        let again = try await connection.consume(queue: queue, prefetch: 10)
        var bodies: Set<String> = []
        for try await delivery in again {
            bodies.insert(String(decoding: delivery.body, as: UTF8.self))
            connection.acknowledge(delivery)
            if bodies.count == 2 { break }
        }
        #expect(bodies == ["0", "5"])
        connection.close()
    }

    /// Answers every `ProfileRequested` on `queue` with a profile named Ada, until cancelled.
    func answerProfileRequests(from queue: String) -> Task<Void, any Error> {
        let publisher = EventPublisher(connection: connection, service: .profile)
        let responder = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: [ProfileRequested.eventType],
            logger: TestEnvironment.logger("responder")
        ) { _, delivery in
            let request = try EnvelopeCodec().decode(ProfileRequested.self, from: delivery.body)
            let profile = ProfileDocument(userId: request.data.userId, displayName: "Ada", updatedAt: Date())
            let reply = Envelope(
                causedBy: request, source: .profile, time: Date(), subject: request.subject,
                data: ProfileFound(profile: profile))
            try publisher.reply(reply, to: delivery.properties.replyTo ?? "")
        }
        return Task { try await responder.run() }
    }

    @Test("an idle connection services heartbeats and is never dropped by the broker")
    func heartbeats() async throws {
        defer { connection.close() }
        var endpoint = try TestEnvironment.adminAMQPEndpoint()
        endpoint.heartbeatSeconds = 1
        let idle = AMQPConnection(endpoint: endpoint, name: "idle", logger: TestEnvironment.logger("amqp"))
        defer { idle.close() }
        let queue = try await declareQueue("Heartbeat")
        await idle.waitUntilConnected()
        // The broker closes a connection after two silent heartbeat intervals; this is the
        // broker's own timer, so the test waits in real time.
        try await Task.sleep(for: .seconds(4))
        #expect(idle.isConnected)
        #expect(idle.connectionsMade == 1, "reconnected: \(idle.lastError)")
        try await idle.publish(
            OutgoingMessage(exchange: exchange, routingKey: "Heartbeat", body: [1], properties: MessageProperties()))
        #expect(try await connection.status(ofQueue: queue)?.messages == 1)
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
