import Contracts
import Foundation
import Messaging
import Synchronization
import TestSupport
import Testing

/// Messages written by someone who wants the consumer to fall over, and a consumer that
/// is stopped in the middle of its work: each ends somewhere safe and the queue keeps
/// flowing.
extension MessagingTests {
    /// The reasons of the next `count` messages in `queue`'s `.dead` queue, acknowledged.
    func deadReasons(of queue: String, count: Int) async throws -> [String: String] {
        let dead = EventRegistry.deadQueueName(for: queue)
        let arrived = try await eventually { try await connection.status(ofQueue: dead)?.messages == count }
        #expect(arrived, "\(count) dead letters expected in \(dead)")
        var reasons: [String: String] = [:]
        guard count > 0, arrived else { return reasons }
        let deliveries = try await connection.consume(queue: dead, prefetch: 50)
        for try await delivery in deliveries {
            reasons[delivery.properties.messageID ?? "?"] =
                delivery.properties.headers[DeadLetterHeader.reason]?.stringValue ?? "?"
            connection.acknowledge(delivery)
            if reasons.count == count { break }
        }
        return reasons
    }

    @Test("headers the runtime cannot trust and oversized bodies go to .dead; the consumer keeps going")
    func untrustedHeaders() async throws {
        defer { connection.close() }
        let policy = RetryPolicy(delays: [.milliseconds(100)])
        let queue = try await declareQueue("UserRegistered", dead: true, retry: policy)
        let handled = Counter()
        let consumer = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: ["UserRegistered"], retryPolicy: policy,
            limits: ConsumerLimits(maxMessageBytes: 4096), logger: TestEnvironment.logger("consumer")
        ) { _, _ in handled.increment() }
        let task = Task { try await consumer.run() }
        defer { task.cancel() }

        let body = try registeredEnvelope(subject: "hostile")
        let hostile: [(id: String, headers: [String: HeaderValue])] = [
            // Int64.max overflowed `attempts + 1` and crash-looped the profile service.
            ("max-attempts", [DeadLetterHeader.attempts: .int(.max)]),
            ("negative-attempts", [DeadLetterHeader.attempts: .int(-1)]),
            ("text-attempts", [DeadLetterHeader.attempts: .string("2")]),
            ("long-replay-id", [ReplayHeader.replayID: .string(String(repeating: "r", count: 5000))]),
            ("text-deadline", [RequestHeader.deadline: .string("tomorrow")]),
        ]
        for (id, headers) in hostile {
            var message = message("UserRegistered", body: body, id: id)
            message.properties.headers = headers
            try await connection.publish(message)
        }
        var large = message(
            "UserRegistered", body: body + String(repeating: " ", count: 5000), id: "too-large")
        large.properties.headers = [:]
        try await connection.publish(large)
        try await connection.publish(message("UserRegistered", body: body, id: "good"))

        let reasons = try await deadReasons(of: queue, count: 6)
        #expect(reasons["max-attempts"] == "bad-header")
        #expect(reasons["negative-attempts"] == "bad-header")
        #expect(reasons["text-attempts"] == "bad-header")
        #expect(reasons["long-replay-id"] == "bad-header")
        #expect(reasons["text-deadline"] == "bad-header")
        #expect(reasons["too-large"] == "too-large")
        #expect(try await eventually { handled.value == 1 }, "the good message behind them is handled")
        // Whatever a header says, the attempts read from it stay in range.
        var clamped = message("UserRegistered", body: body)
        clamped.properties.headers[DeadLetterHeader.attempts] = .int(.max)
        let delivery = Delivery(
            body: clamped.body, properties: clamped.properties, exchange: "", routingKey: "", redelivered: false,
            deliveryTag: 1, generation: 1, queue: queue)
        #expect(delivery.failedAttempts == TrustedHeaders.maximumAttempts)
    }

    @Test("a message that keeps killing its consumer ends in .dead after the redelivery limit")
    func redeliveryLimit() async throws {
        defer { connection.close() }
        let queue = try await declareQueue("UserRegistered", dead: true)
        let ledger = CountingLedger()
        try await connection.publish(
            message("UserRegistered", body: try registeredEnvelope(subject: "deadly"), id: "deadly"))
        // Each round is a consumer that "dies" holding the message: its connection goes away
        // unacknowledged, as a kill -9 would take it, and the broker redelivers it.
        let limit = 2
        var rounds = 0
        while rounds < limit + 3,
            try await connection.status(ofQueue: EventRegistry.deadQueueName(for: queue))?.messages == 0
        {
            rounds += 1
            let doomed = AMQPConnection(
                endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "doomed",
                logger: TestEnvironment.logger("amqp"))
            let died = Counter()
            let consumer = EventConsumer(
                connection: doomed, publishing: connection, queue: queue, acceptedTypes: ["UserRegistered"],
                limits: ConsumerLimits(redeliveryLimit: limit), redeliveries: ledger,
                logger: TestEnvironment.logger("consumer")
            ) { _, _ in
                died.increment()
                doomed.close()
            }
            let task = Task { try await consumer.run() }
            // Either the handler ran (and the connection died), or the consumer refused the
            // message as redelivered too often.
            _ = try await eventually {
                if died.value > 0 { return true }
                return try await connection.status(ofQueue: EventRegistry.deadQueueName(for: queue))?.messages == 1
            }
            task.cancel()
            doomed.close()
            // The broker requeues what the closed connection held.
            _ = try await eventually {
                let main = try await connection.status(ofQueue: queue)?.messages ?? 0
                let dead = try await connection.status(ofQueue: EventRegistry.deadQueueName(for: queue))?.messages ?? 0
                return main + dead == 1
            }
        }
        let reasons = try await deadReasons(of: queue, count: 1)
        #expect(reasons["deadly"] == "delivery-limit")
        #expect(rounds == limit + 2, "the first delivery and \(limit) redeliveries ran the handler")
        #expect(ledger.clears(of: "deadly") == 1, "the count ends with the dead letter")
    }

    @Test("a message given back on purpose (a deploy, each time) is never counted towards the redelivery limit")
    func deliberateRequeuesDoNotCount() async throws {
        defer { connection.close() }
        let queue = try await declareQueue("UserRegistered", dead: true)
        let ledger = CountingLedger()
        try await connection.publish(
            message("UserRegistered", body: try registeredEnvelope(subject: "patient"), id: "patient"))
        let limit = 2
        for _ in 0..<(limit + 3) {
            let started = Counter()
            let consumer = EventConsumer(
                connection: connection, queue: queue, acceptedTypes: ["UserRegistered"],
                limits: ConsumerLimits(redeliveryLimit: limit), redeliveries: ledger,
                logger: TestEnvironment.logger("consumer")
            ) { _, _ in
                started.increment()
                try await Task.sleep(for: .seconds(60))
            }
            let task = Task { try await consumer.run() }
            #expect(try await eventually { started.value == 1 })
            // Shutting down: the handler is cancelled and the message goes back.
            task.cancel()
            _ = await task.result
            #expect(try await eventually { try await connection.status(ofQueue: queue)?.messages == 1 })
        }
        #expect(try await connection.status(ofQueue: EventRegistry.deadQueueName(for: queue))?.messages == 0)
        #expect(ledger.count(of: "patient") == 0, "each return on purpose cleared the count")
        #expect(ledger.clears(of: "patient") == limit + 2, "every redelivered round was counted, then cleared")
    }

    @Test("a handler cancelled by a shutdown gives its message back untouched, even on its last attempt")
    func cancelledHandlerRequeues() async throws {
        defer { connection.close() }
        let policy = RetryPolicy(delays: [.milliseconds(100)])
        let queue = try await declareQueue("UserRegistered", dead: true, retry: policy)
        let started = Counter()
        let consumer = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: ["UserRegistered"], retryPolicy: policy,
            logger: TestEnvironment.logger("consumer")
        ) { _, _ in
            started.increment()
            try await Task.sleep(for: .seconds(60))
        }
        var last = message("UserRegistered", body: try registeredEnvelope(subject: "last"), id: "last-attempt")
        last.properties.headers = [DeadLetterHeader.attempts: .int(1)]
        try await connection.publish(last)
        let task = Task { try await consumer.run() }
        #expect(try await eventually { started.value == 1 })
        task.cancel()
        _ = await task.result

        #expect(try await eventually { try await connection.status(ofQueue: queue)?.messages == 1 })
        #expect(try await connection.status(ofQueue: EventRegistry.deadQueueName(for: queue))?.messages == 0)
        let back = try #require(try await next(try await connection.consume(queue: queue, prefetch: 1)))
        #expect(back.properties.messageID == "last-attempt")
        #expect(back.properties.headers[DeadLetterHeader.attempts] == .int(1), "no attempt was used up")
        #expect(back.properties.headers[DeadLetterHeader.reason] == nil)
        connection.acknowledge(back)
    }

    @Test(
        "a request past its deadline is dropped, not handled; one whose deadline comes before its retry is not retried")
    func expiredRequests() async throws {
        defer { connection.close() }
        let policy = RetryPolicy(delays: [.seconds(30)])
        let queue = try await declareQueue("UserRegistered", dead: true, retry: policy)
        let handled = Mutex<[String]>([])
        let consumer = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: ["UserRegistered"], retryPolicy: policy,
            logger: TestEnvironment.logger("consumer")
        ) { _, delivery in
            handled.withLock { $0.append(delivery.properties.messageID ?? "?") }
            if delivery.properties.messageID == "fails-soon" { throw TestFailure() }
        }
        let task = Task { try await consumer.run() }
        defer { task.cancel() }
        let body = try registeredEnvelope(subject: "request")
        var expired = message("UserRegistered", body: body, id: "expired")
        expired.properties.headers = [RequestHeader.deadline: RequestHeader.value(of: Date().addingTimeInterval(-1))]
        var failsSoon = message("UserRegistered", body: body, id: "fails-soon")
        failsSoon.properties.headers = [RequestHeader.deadline: RequestHeader.value(of: Date().addingTimeInterval(5))]
        var timely = message("UserRegistered", body: body, id: "timely")
        timely.properties.headers = [RequestHeader.deadline: RequestHeader.value(of: Date().addingTimeInterval(60))]
        try await connection.publish([expired, failsSoon, timely])

        #expect(try await eventually { handled.withLock { $0.contains("timely") && $0.contains("fails-soon") } })
        #expect(try await eventually { try await connection.status(ofQueue: queue)?.messages == 0 })
        #expect(!handled.withLock { $0.contains("expired") }, "a request past its deadline never reaches its handler")
        // Its 30 s retry would come after its 5 s deadline: dropped, not retried or dead.
        #expect(try await connection.status(ofQueue: policy.queueName(for: queue, retry: 1))?.messages == 0)
        #expect(try await connection.status(ofQueue: EventRegistry.deadQueueName(for: queue))?.messages == 0)
        var inTime = Delivery(
            body: [], properties: timely.properties, exchange: "", routingKey: "", redelivered: false, deliveryTag: 1,
            generation: 1, queue: queue)
        #expect(throws: Never.self) { try inTime.checkDeadline() }
        inTime.properties.headers = expired.properties.headers
        #expect(throws: RequestExpired.self) { try inTime.checkDeadline() }
    }
}

/// Redelivery counts kept in memory, standing in for a service's database.
final class CountingLedger: RedeliveryLedger {
    private let counts = Mutex<[String: Int]>([:])

    func recordRedelivery(queue: String, messageKey: String) async throws -> Int {
        counts.withLock { counts in
            counts[messageKey, default: 0] += 1
            return counts[messageKey] ?? 0
        }
    }

    func clearRedeliveries(queue: String, messageKey: String) async throws {
        counts.withLock { $0[messageKey] = nil }
        cleared.withLock { $0.append(messageKey) }
    }

    func count(of key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
    func clears(of key: String) -> Int { cleared.withLock { $0.filter { $0 == key }.count } }
    private let cleared = Mutex<[String]>([])
}

extension MessagingTests {
    @Test("the broker refuses a message over 16 MiB, the services' KINDRED_MAX_MESSAGE_BYTES")
    func brokerMessageSizeLimit() async throws {
        defer { connection.close() }
        let queue = try await declareQueue("Large")
        let limit = ConsumerLimits.defaultMaxMessageBytes
        var fits = message("Large", body: "")
        fits.body = [UInt8](repeating: UInt8(ascii: "x"), count: limit)
        try await connection.publish(fits)
        #expect(try await eventually { try await connection.status(ofQueue: queue)?.messages == 1 })
        var tooLarge = fits
        tooLarge.body.append(UInt8(ascii: "x"))
        do {
            try await connection.publish(tooLarge)
            Issue.record("the broker took a message of \(tooLarge.body.count) bytes")
        } catch let error as AMQPError {
            #expect("\(error)".contains("max size") || "\(error)".contains("406"), "\(error)")
        }
    }
}
