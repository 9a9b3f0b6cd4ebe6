import Contracts
import Foundation
import Logging
import Metrics

/// Headers a dead-lettered message carries, so that an operator (and the CLI) can see why.
public enum DeadLetterHeader {
    public static let reason = "x-kindred-dead-reason"
    public static let error = "x-kindred-error"
    public static let originalQueue = "x-kindred-original-queue"
    public static let failedAt = "x-kindred-failed-at"
    public static let attempts = "x-kindred-attempts"
}

/// A handler's verdict on a message it could not process, when it knows the message will
/// never succeed (the consumer dead-letters it at once).
public struct PermanentFailure: Error, CustomStringConvertible {
    public var reason: String
    public var description: String

    public init(reason: String, description: String) {
        self.reason = reason
        self.description = description
    }
}

/// Consumes one queue: decodes each message's envelope, checks its type and version
/// against the registry, runs the handler, and acknowledges only after the handler
/// returned. A message that cannot be processed is published to `<queue>.dead` with the
/// reason in its headers, then acknowledged, so the consumer never stops on bad input.
public struct EventConsumer: Sendable {
    public typealias Handler = @Sendable (EnvelopeHeader, Delivery) async throws -> Void

    public let connection: AMQPConnection
    public let queue: String
    public let acceptedTypes: Set<EventType>
    public let prefetch: UInt16
    public let concurrency: Int
    private let handler: Handler
    private let logger: Logger
    private let codec = EnvelopeCodec()
    private let consumed: Counter
    private let succeeded: Counter
    private let deadLettered: Counter
    private let duration: Timer

    public init(
        connection: AMQPConnection, queue: String, acceptedTypes: Set<EventType>,
        prefetch: UInt16 = 50, concurrency: Int = 8, logger: Logger, handler: @escaping Handler
    ) {
        self.connection = connection
        self.queue = queue
        self.acceptedTypes = acceptedTypes
        self.prefetch = prefetch
        self.concurrency = max(1, concurrency)
        self.handler = handler
        var logger = logger
        logger[metadataKey: "queue"] = "\(queue)"
        self.logger = logger
        let dimensions = [("queue", queue)]
        self.consumed = Counter(label: "kindred_messages_consumed_total", dimensions: dimensions)
        self.succeeded = Counter(label: "kindred_messages_succeeded_total", dimensions: dimensions)
        self.deadLettered = Counter(label: "kindred_messages_dead_total", dimensions: dimensions)
        self.duration = Timer(label: "kindred_handler_duration_seconds", dimensions: dimensions)
    }

    /// Runs until the task is cancelled or the connection is closed.
    public func run() async throws {
        let deliveries = try await connection.consume(queue: queue, prefetch: prefetch)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for try await delivery in deliveries {
                if running >= concurrency {
                    try await group.next()
                    running -= 1
                }
                group.addTask { await process(delivery) }
                running += 1
            }
            try await group.waitForAll()
        }
    }

    /// Handles one delivery to the end: acknowledged, dead-lettered, or (if even that
    /// failed) rejected back to the queue.
    public func process(_ delivery: Delivery) async {
        consumed.increment()
        let header: EnvelopeHeader
        do {
            header = try codec.decodeHeader(delivery.body)
        } catch {
            await deadLetter(delivery, reason: error.reasonCode, error: error.description)
            return
        }
        guard acceptedTypes.contains(header.type) else {
            await deadLetter(
                delivery, reason: "unexpected-type",
                error: "queue \(queue) does not take \(header.type)")
            return
        }
        var logger = logger
        logger[metadataKey: "correlation_id"] = "\(header.correlationid)"
        logger[metadataKey: "event_type"] = "\(header.type)"
        logger[metadataKey: "event_id"] = "\(header.id.uuidString)"
        let started = ContinuousClock.now
        do {
            try await handler(header, delivery)
            duration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            succeeded.increment()
            connection.acknowledge(delivery)
            logger.info("handled")
        } catch let error as EnvelopeDecodingError {
            await deadLetter(delivery, reason: error.reasonCode, error: error.description)
        } catch let error as PermanentFailure {
            await deadLetter(delivery, reason: error.reason, error: error.description)
        } catch {
            logger.error("handler failed", metadata: ["error": "\(error)"])
            await deadLetter(delivery, reason: "handler-failed", error: "\(error)")
        }
    }

    private func deadLetter(_ delivery: Delivery, reason: String, error: String) async {
        var properties = delivery.properties
        properties.headers[DeadLetterHeader.reason] = .string(reason)
        properties.headers[DeadLetterHeader.error] = .string(String(error.prefix(1000)))
        properties.headers[DeadLetterHeader.originalQueue] = .string(queue)
        properties.headers[DeadLetterHeader.failedAt] = .string(Timestamp.format(Date()))
        properties.persistent = true
        let message = OutgoingMessage(
            exchange: "", routingKey: EventRegistry.deadQueueName(for: queue), body: delivery.body,
            properties: properties, mandatory: true)
        do {
            try await connection.publish(message)
            connection.acknowledge(delivery)
            deadLettered.increment()
            logger.warning(
                "message dead-lettered",
                metadata: [
                    "reason": "\(reason)", "error": "\(error)",
                    "message_id": "\(delivery.properties.messageID ?? "-")",
                ])
        } catch let publishError {
            // Not acknowledged: the broker gives the message back, nothing is lost.
            logger.error("cannot dead-letter a message", metadata: ["error": "\(publishError)"])
            connection.reject(delivery, requeue: true)
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
