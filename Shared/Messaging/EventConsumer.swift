import Contracts
import Foundation
import Logging
import Metrics

/// Headers a retried or dead-lettered message carries, so that an operator (and the CLI)
/// can see what happened to it.
public enum DeadLetterHeader {
    /// Why it ended in `.dead`: `malformed`, `unknown-type`, `unaccepted-version`,
    /// `invalid-data`, `unexpected-type`, `forged-source`, `too-large`, `bad-header`,
    /// `delivery-limit`, `handler-failed`, or a handler's own reason.
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
    /// How many times a handler already failed on this message (0 on its first delivery),
    /// clamped to `0...TrustedHeaders.maximumAttempts` whatever the header says.
    public var failedAttempts: Int {
        guard case .int(let value)? = properties.headers[DeadLetterHeader.attempts] else { return 0 }
        return Int(min(max(value, 0), Int64(TrustedHeaders.maximumAttempts)))
    }
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

/// Limits a consumer keeps on what it is handed.
public struct ConsumerLimits: Sendable, Equatable {
    /// A body larger than this is dead-lettered (`too-large`) before it is decoded.
    public var maxMessageBytes: Int
    /// How many times a message may come back unacknowledged (its consumer died or its
    /// connection dropped while holding it) before it is dead-lettered (`delivery-limit`):
    /// a message that kills its consumer must not crash-loop the service.
    public var redeliveryLimit: Int

    public static let defaultMaxMessageBytes = 16 * 1024 * 1024

    public init(maxMessageBytes: Int = Self.defaultMaxMessageBytes, redeliveryLimit: Int = 5) {
        self.maxMessageBytes = maxMessageBytes
        self.redeliveryLimit = redeliveryLimit
    }
}

/// Counts how often a message was redelivered, somewhere that survives the consumer's
/// process (the service's database): the broker's `redelivered` flag says only "at least
/// once" on classic queues.
public protocol RedeliveryLedger: Sendable {
    /// Records one more redelivery of `messageKey` from `queue`; returns how many there
    /// have been in a row, this one included.
    func recordRedelivery(queue: String, messageKey: String) async throws -> Int
    /// The message was settled (handled, retried, dead-lettered or given back on purpose):
    /// the next redelivery starts a new count.
    func clearRedeliveries(queue: String, messageKey: String) async throws
}

/// Consumes one queue: checks each message's size and headers, decodes its envelope,
/// checks its type and version against the registry, runs the handler, and acknowledges
/// only after the handler returned.
///
/// - Bad input (from a broker user it does not trust, too large, a header the runtime
///   cannot trust, not an envelope, unknown type or version, invalid data) goes straight to
///   `<queue>.dead` with the reason in its headers; so does a message redelivered more than
///   `limits.redeliveryLimit` times.
/// - A request past its deadline (`x-kindred-deadline`) is dropped, never applied.
/// - A handler error that `isTransient` recognises (the database is away) is tried again in
///   place, with growing pauses, without using up an attempt: the queue waits for the
///   dependency instead of burning through its retries.
/// - Any other handler error sends the message to the next retry queue of `retryPolicy`,
///   which returns it to this queue after its delay; after the last one it goes to `.dead`.
/// - A handler cancelled by a shutdown gives its message back to the queue untouched: a
///   deploy uses up no attempt.
///
/// Whatever happens, the message is acknowledged only once it is safely somewhere else,
/// so the consumer never stops on bad input and never loses a message. Retries and dead
/// letters are published on `publishing` (the service's publishing connection), so a
/// broker that blocks publishers never stalls this connection's acknowledgements.
public struct EventConsumer: Sendable {
    public typealias Handler = @Sendable (EnvelopeHeader, Delivery) async throws -> Void
    /// Reads a message's bytes into its header and whatever the handler takes (its typed
    /// envelope), in one pass.
    public typealias Decoder = @Sendable ([UInt8]) throws(EnvelopeDecodingError) -> DecodedMessage
    /// Takes the decoded message, its delivery and the headers the consumer already checked.
    public typealias DecodedHandler = @Sendable (DecodedMessage, Delivery, TrustedHeaders) async throws -> Void

    public let connection: AMQPConnection
    public let publishing: AMQPConnection
    public let queue: String
    public let acceptedTypes: Set<EventType>
    public let prefetch: UInt16
    public let concurrency: Int
    public let retryPolicy: RetryPolicy
    public let limits: ConsumerLimits
    /// The broker users (`user_id`) this queue takes messages from; nil takes any.
    public let trustedPublishers: Set<String>?
    private let redeliveries: (any RedeliveryLedger)?
    private let isTransient: @Sendable (any Error) -> Bool
    private let now: @Sendable () -> Date
    private let decode: Decoder
    private let handler: DecodedHandler
    private let logger: Logger
    private let consumed: Counter
    private let succeeded: Counter
    private let deadLettered: Counter
    private let retried: Counter
    private let expired: Counter
    private let duration: Timer

    /// A consumer whose handler takes the checked header (and reads the body itself).
    public init(
        connection: AMQPConnection, publishing: AMQPConnection? = nil, queue: String, acceptedTypes: Set<EventType>,
        prefetch: UInt16 = 50, concurrency: Int = 8, retryPolicy: RetryPolicy = .standard,
        limits: ConsumerLimits = ConsumerLimits(), trustedPublishers: Set<String>? = nil,
        redeliveries: (any RedeliveryLedger)? = nil,
        isTransient: @escaping @Sendable (any Error) -> Bool = { _ in false },
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger, handler: @escaping Handler
    ) {
        let codec = EnvelopeCodec()
        self.init(
            connection: connection, publishing: publishing, queue: queue, acceptedTypes: acceptedTypes,
            prefetch: prefetch, concurrency: concurrency, retryPolicy: retryPolicy, limits: limits,
            trustedPublishers: trustedPublishers, redeliveries: redeliveries, isTransient: isTransient, now: now,
            logger: logger,
            decode: { bytes throws(EnvelopeDecodingError) in
                DecodedMessage(header: try codec.decodeHeader(bytes), value: ())
            },
            handler: { decoded, delivery, _ in try await handler(decoded.header, delivery) })
    }

    /// A consumer that decodes each message once with `decode` and hands the result over.
    public init(
        connection: AMQPConnection, publishing: AMQPConnection? = nil, queue: String, acceptedTypes: Set<EventType>,
        prefetch: UInt16 = 50, concurrency: Int = 8, retryPolicy: RetryPolicy = .standard,
        limits: ConsumerLimits = ConsumerLimits(), trustedPublishers: Set<String>? = nil,
        redeliveries: (any RedeliveryLedger)? = nil,
        isTransient: @escaping @Sendable (any Error) -> Bool = { _ in false },
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger, decode: @escaping Decoder,
        handler: @escaping DecodedHandler
    ) {
        self.decode = decode
        self.connection = connection
        self.publishing = publishing ?? connection
        self.queue = queue
        self.acceptedTypes = acceptedTypes
        self.prefetch = prefetch
        self.concurrency = max(1, concurrency)
        self.retryPolicy = retryPolicy
        self.limits = limits
        self.trustedPublishers = trustedPublishers
        self.redeliveries = redeliveries
        self.isTransient = isTransient
        self.now = now
        self.handler = handler
        var logger = logger
        logger[metadataKey: "queue"] = "\(queue)"
        self.logger = logger
        let dimensions = [("queue", queue)]
        self.consumed = Counter(label: "kindred_messages_consumed_total", dimensions: dimensions)
        self.succeeded = Counter(label: "kindred_messages_succeeded_total", dimensions: dimensions)
        self.deadLettered = Counter(label: "kindred_messages_dead_total", dimensions: dimensions)
        self.retried = Counter(label: "kindred_messages_retried_total", dimensions: dimensions)
        self.expired = Counter(label: "kindred_requests_expired_total", dimensions: dimensions)
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

    /// Handles one delivery to the end: acknowledged, dead-lettered, dropped as expired, or
    /// (if even that failed, or the consumer is stopping) given back to the queue.
    public func process(_ delivery: Delivery) async {
        consumed.increment()
        guard delivery.body.count <= limits.maxMessageBytes else {
            await deadLetter(
                delivery, reason: "too-large",
                error: "the body has \(delivery.body.count) bytes; the limit is \(limits.maxMessageBytes)")
            return
        }
        if let trustedPublishers, !trustedPublishers.contains(delivery.properties.userID ?? "") {
            let sender = delivery.properties.userID.map { "broker user \($0)" } ?? "no broker user"
            await deadLetter(
                delivery, reason: "forged-source",
                error:
                    "published by \(sender); \(queue) takes messages from \(trustedPublishers.sorted().joined(separator: ", ")) only"
            )
            return
        }
        let trusted: TrustedHeaders
        switch TrustedHeaders.read(delivery.properties.headers) {
        case .success(let headers): trusted = headers
        case .failure(let bad):
            await deadLetter(delivery, reason: "bad-header", error: bad.description)
            return
        }
        if let deadline = trusted.deadline, now() >= deadline {
            drop(delivery, expiredAt: deadline)
            return
        }
        // A message that comes back unacknowledged is counted while it is handled: every way
        // it can be settled here (handled, retried, dead-lettered, dropped, given back on
        // purpose) clears the count, so only deliveries whose process died holding them add
        // up to the limit.
        let counted: String?
        if delivery.redelivered {
            switch await countRedelivery(delivery) {
            case .overLimit: return
            case .counted(let key): counted = key
            case .notCounted: counted = nil
            }
        } else {
            counted = nil
        }
        await handle(delivery, headers: trusted)
        // Only a settlement that reached the broker ends the count: with the connection gone
        // (a crash, a kill, a dropped link) the message comes back as if it had never been
        // handled, and that return counts.
        if let counted, let redeliveries, connection.isOpen {
            do {
                try await redeliveries.clearRedeliveries(queue: queue, messageKey: counted)
            } catch {
                logger.warning("cannot clear a redelivery count", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Decodes the envelope, checks its type and runs the handler, to the end.
    private func handle(_ delivery: Delivery, headers trusted: TrustedHeaders) async {
        let decoded: DecodedMessage
        do {
            decoded = try decode(delivery.body)
        } catch {
            await deadLetter(delivery, reason: error.reasonCode, error: error.description)
            return
        }
        let header = decoded.header
        guard acceptedTypes.contains(header.type) else {
            await deadLetter(
                delivery, reason: "unexpected-type",
                error: "queue \(queue) does not take \(header.type)")
            return
        }
        // Built only for a line that is written: logs at info and below are off in production.
        func about(_ extra: Logger.Metadata = [:]) -> Logger.Metadata {
            extra.merging(
                [
                    "correlation_id": "\(header.correlationid)", "event_type": "\(header.type)",
                    "event_id": "\(header.id.uuidString)",
                ], uniquingKeysWith: { own, _ in own })
        }
        var backoff = Backoff()
        while true {
            let started = ContinuousClock.now
            do {
                try await handler(decoded, delivery, trusted)
                duration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
                succeeded.increment()
                connection.acknowledge(delivery)
                logger.info("handled", metadata: about())
                return
            } catch  where Task.isCancelled {
                // Shutting down: the message goes back as it came, for another instance or
                // the restart; a deploy must not use up its attempts.
                connection.reject(delivery, requeue: true)
                return
            } catch let error as RequestExpired {
                drop(delivery, expiredAt: error.deadline)
                return
            } catch let error as EnvelopeDecodingError {
                await deadLetter(delivery, reason: error.reasonCode, error: error.description)
                return
            } catch let error as PermanentFailure {
                await deadLetter(delivery, reason: error.reason, error: error.description)
                return
            } catch  where isTransient(error) {
                logger.warning("a dependency is away; trying again", metadata: about(["error": "\(error)"]))
                do {
                    try await backoff.pause()
                } catch {
                    connection.reject(delivery, requeue: true)
                    return
                }
            } catch {
                await retryOrDeadLetter(delivery, error: error, headers: trusted)
                return
            }
        }
    }

    /// Counts a redelivery; true (and the message dead-lettered) when there were too many.
    /// If the count cannot be kept (the database is away), the message is handled as usual.
    private enum RedeliveryCount {
        case notCounted
        case counted(key: String)
        /// Dead-lettered already.
        case overLimit
    }

    /// Counts a redelivery; dead-letters the message when there were too many in a row. If
    /// the count cannot be kept (the database is away), the message is handled as usual.
    private func countRedelivery(_ delivery: Delivery) async -> RedeliveryCount {
        guard let redeliveries else { return .notCounted }
        let key = delivery.properties.messageID ?? "body-fnv1a-\(Self.fingerprint(delivery.body))"
        let count: Int
        do {
            count = try await redeliveries.recordRedelivery(queue: queue, messageKey: key)
        } catch {
            logger.warning("cannot count a redelivery", metadata: ["error": "\(error)"])
            return .notCounted
        }
        guard count > limits.redeliveryLimit else { return .counted(key: key) }
        await deadLetter(
            delivery, reason: "delivery-limit",
            error:
                "redelivered \(count) times in a row without being settled (its consumer died holding it); the limit is \(limits.redeliveryLimit)"
        )
        try? await redeliveries.clearRedeliveries(queue: queue, messageKey: key)
        return .overLimit
    }

    /// A stable 64-bit FNV-1a of a body, to count redeliveries of a message without an id.
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// Drops a request whose requester stopped waiting: it was told to try again (504), so
    /// applying it now could overwrite what it did since.
    private func drop(_ delivery: Delivery, expiredAt deadline: Date) {
        connection.acknowledge(delivery)
        expired.increment()
        logger.warning(
            "dropped a request past its deadline",
            metadata: [
                "message_id": "\(delivery.properties.messageID ?? "-")",
                "deadline": "\(Timestamp.format(deadline))",
            ])
    }

    /// Sends a message whose handler failed to its next retry queue, or to `.dead` after
    /// the last retry. The copy keeps the message id (so inboxes still recognise it) and
    /// records the attempts and failure times in its headers. A request whose deadline
    /// comes before its retry is dropped instead.
    private func retryOrDeadLetter(_ delivery: Delivery, error: any Error, headers: TrustedHeaders) async {
        let attempts = headers.failedAttempts + 1
        logger.warning("handler failed", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
        guard attempts <= retryPolicy.delays.count else {
            await deadLetter(delivery, reason: "handler-failed", error: "\(error)", attempts: attempts)
            return
        }
        let delay = retryPolicy.delays[attempts - 1]
        if let deadline = headers.deadline, now().addingTimeInterval(Double(delay.milliseconds) / 1000) >= deadline {
            drop(delivery, expiredAt: deadline)
            return
        }
        let properties = failureProperties(of: delivery, error: "\(error)", attempts: attempts)
        let message = OutgoingMessage(
            exchange: "", routingKey: retryPolicy.queueName(for: queue, retry: attempts), body: delivery.body,
            properties: properties, mandatory: true)
        do {
            try await publishing.publish(message)
            connection.acknowledge(delivery)
            retried.increment()
        } catch let publishError {
            logger.error("cannot schedule a retry", metadata: ["error": "\(publishError)"])
            await giveBack(delivery)
        }
    }

    /// The delivery's properties with the failure recorded. Persistence and expiry are the
    /// original's: a request stays transient and keeps its deadline.
    private func failureProperties(of delivery: Delivery, error: String, attempts: Int) -> MessageProperties {
        var properties = delivery.properties
        let now = Timestamp.format(now())
        properties.headers[DeadLetterHeader.error] = .string(String(error.prefix(1000)))
        properties.headers[DeadLetterHeader.attempts] = .int(Int64(attempts))
        properties.headers[DeadLetterHeader.originalQueue] = .string(queue)
        if properties.headers[DeadLetterHeader.firstFailedAt]?.stringValue == nil {
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
        // Kept for inspection: a dead letter waits for an operator, so it is written to
        // disk and never expires, whatever the original asked for.
        properties.persistent = true
        properties.expirationMilliseconds = nil
        let message = OutgoingMessage(
            exchange: "", routingKey: EventRegistry.deadQueueName(for: queue), body: delivery.body,
            properties: properties, mandatory: true)
        do {
            try await publishing.publish(message)
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

/// A message as its consumer's decoder read it: the checked header and the typed value
/// (an `Envelope<E>`) the handler takes, so the bytes are parsed once.
public struct DecodedMessage: Sendable {
    public let header: EnvelopeHeader
    public let value: any Sendable

    public init(header: EnvelopeHeader, value: any Sendable) {
        self.header = header
        self.value = value
    }
}

/// Thrown by a handler (or the runtime, before it commits) when a request's deadline
/// passed while it was being handled: its effects are rolled back and it is dropped.
public struct RequestExpired: Error, CustomStringConvertible {
    public let deadline: Date

    public init(deadline: Date) { self.deadline = deadline }

    /// Throws when there is a deadline and `now` has reached it. Deadlines are wall-clock
    /// times the requester wrote, so `now` is the real clock, never a handler's injected one.
    public static func check(_ deadline: Date?, now: Date = Date()) throws(RequestExpired) {
        if let deadline, now >= deadline { throw RequestExpired(deadline: deadline) }
    }

    public var description: String { "the request's deadline \(Timestamp.format(deadline)) has passed" }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
