import Contracts
import Foundation
import Logging
import Metrics

/// Headers a retried or dead-lettered message carries, so that an operator (and the CLI)
/// can see what happened to it.
public enum DeadLetterHeader {
    /// Why it ended in `.dead`: `malformed`, `unknown-type`, `unaccepted-version`,
    /// `invalid-data`, `unexpected-type`, `handler-failed`, or a handler's own reason.
    public static let reason = "x-kindred-dead-reason"
    /// The last error, as text.
    public static let error = "x-kindred-error"
    /// How many times the handler ran and failed.
    public static let attempts = "x-kindred-attempts"
    public static let originalQueue = "x-kindred-original-queue"
    public static let firstFailedAt = "x-kindred-first-failed-at"
    public static let lastFailedAt = "x-kindred-last-failed-at"

    /// Every header a failure writes (cleared when a dead letter is sent back).
    public static let failureHeaders = [reason, error, attempts, originalQueue, firstFailedAt, lastFailedAt]
}

extension Delivery {
    /// How many times a handler already failed on this message (0 on its first delivery).
    public var failedAttempts: Int { Int(properties.headers[DeadLetterHeader.attempts]?.intValue ?? 0) }
}

/// The provenance headers `kindred replay` and `kindred dead replay` put on what they publish.
public enum ReplayHeader {
    public static let replayID = "x-kindred-replay-id"
    /// The id of the message replayed (the same as its own unless `--as-new`).
    public static let originalMessageID = "x-kindred-original-message-id"
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
/// returned.
///
/// - Bad input (not an envelope, unknown type or version, invalid data) goes straight to
///   `<queue>.dead` with the reason in its headers.
/// - A handler error that `isTransient` recognises (the database is away) is tried again in
///   place, with growing pauses, without using up an attempt: the queue waits for the
///   dependency instead of burning through its retries.
/// - Any other handler error sends the message to the next retry queue of `retryPolicy`,
///   which returns it to this queue after its delay; after the last one it goes to `.dead`.
///
/// Whatever happens, the message is acknowledged only once it is safely somewhere else,
/// so the consumer never stops on bad input and never loses a message.
public struct EventConsumer: Sendable {
    public typealias Handler = @Sendable (EnvelopeHeader, Delivery) async throws -> Void

    public let connection: AMQPConnection
    public let queue: String
    public let acceptedTypes: Set<EventType>
    public let prefetch: UInt16
    public let concurrency: Int
    public let retryPolicy: RetryPolicy
    private let isTransient: @Sendable (any Error) -> Bool
    private let handler: Handler
    private let logger: Logger
    private let codec = EnvelopeCodec()
    private let consumed: Counter
    private let succeeded: Counter
    private let deadLettered: Counter
    private let retried: Counter
    private let duration: Timer

    public init(
        connection: AMQPConnection, queue: String, acceptedTypes: Set<EventType>,
        prefetch: UInt16 = 50, concurrency: Int = 8, retryPolicy: RetryPolicy = .standard,
        isTransient: @escaping @Sendable (any Error) -> Bool = { _ in false }, logger: Logger,
        handler: @escaping Handler
    ) {
        self.connection = connection
        self.queue = queue
        self.acceptedTypes = acceptedTypes
        self.prefetch = prefetch
        self.concurrency = max(1, concurrency)
        self.retryPolicy = retryPolicy
        self.isTransient = isTransient
        self.handler = handler
        var logger = logger
        logger[metadataKey: "queue"] = "\(queue)"
        self.logger = logger
        let dimensions = [("queue", queue)]
        self.consumed = Counter(label: "kindred_messages_consumed_total", dimensions: dimensions)
        self.succeeded = Counter(label: "kindred_messages_succeeded_total", dimensions: dimensions)
        self.deadLettered = Counter(label: "kindred_messages_dead_total", dimensions: dimensions)
        self.retried = Counter(label: "kindred_messages_retried_total", dimensions: dimensions)
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
        var backoff = Backoff()
        while true {
            let started = ContinuousClock.now
            do {
                try await handler(header, delivery)
                duration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
                succeeded.increment()
                connection.acknowledge(delivery)
                logger.info("handled")
                return
            } catch let error as EnvelopeDecodingError {
                await deadLetter(delivery, reason: error.reasonCode, error: error.description)
                return
            } catch let error as PermanentFailure {
                await deadLetter(delivery, reason: error.reason, error: error.description)
                return
            } catch  where isTransient(error) && !Task.isCancelled {
                logger.warning("a dependency is away; trying again", metadata: ["error": "\(error)"])
                do {
                    try await backoff.pause()
                } catch {
                    // Shutting down: give the message back for another instance or a restart.
                    connection.reject(delivery, requeue: true)
                    return
                }
            } catch {
                await retryOrDeadLetter(delivery, error: error)
                return
            }
        }
    }

    /// Sends a message whose handler failed to its next retry queue, or to `.dead` after
    /// the last retry. The copy keeps the message id (so inboxes still recognise it) and
    /// records the attempts and failure times in its headers.
    private func retryOrDeadLetter(_ delivery: Delivery, error: any Error) async {
        let attempts = delivery.failedAttempts + 1
        logger.warning("handler failed", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
        guard attempts <= retryPolicy.delays.count else {
            await deadLetter(delivery, reason: "handler-failed", error: "\(error)", attempts: attempts)
            return
        }
        var properties = failureProperties(of: delivery, error: "\(error)", attempts: attempts)
        properties.persistent = true
        let message = OutgoingMessage(
            exchange: "", routingKey: retryPolicy.queueName(for: queue, retry: attempts), body: delivery.body,
            properties: properties, mandatory: true)
        do {
            try await connection.publish(message)
            connection.acknowledge(delivery)
            retried.increment()
        } catch let publishError {
            logger.error("cannot schedule a retry", metadata: ["error": "\(publishError)"])
            await giveBack(delivery)
        }
    }

    private func failureProperties(of delivery: Delivery, error: String, attempts: Int) -> MessageProperties {
        var properties = delivery.properties
        let now = Timestamp.format(Date())
        properties.headers[DeadLetterHeader.error] = .string(String(error.prefix(1000)))
        properties.headers[DeadLetterHeader.attempts] = .int(Int64(attempts))
        properties.headers[DeadLetterHeader.originalQueue] = .string(queue)
        if properties.headers[DeadLetterHeader.firstFailedAt] == nil {
            properties.headers[DeadLetterHeader.firstFailedAt] = .string(now)
        }
        properties.headers[DeadLetterHeader.lastFailedAt] = .string(now)
        // The broker's own record of TTL expiries is an array Kindred does not copy.
        properties.headers["x-death"] = nil
        return properties
    }

    private func deadLetter(_ delivery: Delivery, reason: String, error: String, attempts: Int = 0) async {
        var properties = failureProperties(of: delivery, error: error, attempts: attempts)
        properties.headers[DeadLetterHeader.reason] = .string(reason)
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
            await giveBack(delivery)
        }
    }

    /// Returns a message to its queue after a pause, so that a retry or dead-letter queue
    /// that cannot be reached does not turn into a hot redelivery loop.
    private func giveBack(_ delivery: Delivery) async {
        try? await Task.sleep(for: .seconds(1))
        connection.reject(delivery, requeue: true)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
