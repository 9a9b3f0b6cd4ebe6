import CRabbitMQ
import Foundation
import Glibc
import Logging
import Synchronization

/// A connection to RabbitMQ whose rabbitmq-c state is owned by one thread for its whole
/// life (rabbitmq-c is not thread-safe and does no background work).
///
/// Callers talk to that thread through a mailbox: `publish`, `acknowledge`, `declare` and
/// `consume` enqueue a command and wake the thread through an eventfd, so no blocking C
/// call ever runs on Swift's cooperative pool. The owner thread services heartbeats while
/// idle, waits for publisher confirms, and reconnects with backoff and jitter when the
/// connection fails: it then declares the topology again and re-registers consumers.
public final class AMQPConnection: Sendable {
    public let endpoint: AMQPEndpoint
    /// How long a publish waits for the broker's confirm at most: a broker that blocked
    /// publishers (resource alarm) or lost the message must not make a caller wait forever.
    public let confirmTimeout: Duration
    private let mailbox: SharedMailbox

    struct Mailbox {
        var commands: [Command] = []
        var isConnected = false
        var lastError: String = "not connected yet"
        var connectionsMade = 0
        var isClosed = false
        var readinessWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Called once on the owner thread with the broker's confirm (or the failure).
    typealias PublishCompletion = @Sendable (Result<Void, any Error>) -> Void

    enum Command: Sendable {
        case publish(OutgoingMessage, deadline: ContinuousClock.Instant, PublishCompletion)
        case acknowledge(tag: UInt64, multiple: Bool, generation: Int)
        case reject(tag: UInt64, requeue: Bool, generation: Int)
        case declare(Topology, CheckedContinuation<Void, any Error>)
        case consume(ConsumerRegistration, CheckedContinuation<Void, any Error>)
        case cancel(consumerTag: String)
        case inspect(queue: String, CheckedContinuation<QueueStatus?, any Error>)
    }

    /// What a consumer asked for; kept by the owner thread to consume again after a
    /// reconnect.
    struct ConsumerRegistration: Sendable {
        let queue: String
        let consumerTag: String
        let prefetch: UInt16
        let continuation: AsyncThrowingStream<Delivery, any Error>.Continuation
    }

    /// Opens the connection in the background. It is usable at once: until the broker is
    /// reached, publishes fail with `notConnected` and declarations wait.
    public init(endpoint: AMQPEndpoint, name: String, logger: Logger, confirmTimeout: Duration = .seconds(30)) {
        self.endpoint = endpoint
        self.confirmTimeout = confirmTimeout
        self.mailbox = SharedMailbox()
        var namedLogger = logger
        namedLogger[metadataKey: "amqp.connection"] = "\(name)"
        let logger = namedLogger
        // The owner is created on its own thread and never leaves it: its C state is not
        // Sendable, and only the mailbox is shared.
        let thread = Thread { [mailbox] in
            AMQPOwner(endpoint: endpoint, mailbox: mailbox, logger: logger).run()
        }
        thread.name = "amqp-\(name)"
        thread.start()
    }

    /// Whether the connection is up now (for `/ready`).
    public var isConnected: Bool { mailbox.state.withLock { $0.isConnected } }

    /// Up and not closed by its owner: an acknowledgement sent now reaches the broker.
    public var isOpen: Bool { mailbox.state.withLock { $0.isConnected && !$0.isClosed } }

    /// How many times the connection was established (1 if it never failed).
    public var connectionsMade: Int { mailbox.state.withLock { $0.connectionsMade } }

    /// Why the connection is down, if it is.
    public var lastError: String { mailbox.state.withLock { $0.lastError } }

    /// Publishes and waits for the broker's confirm (the message is then safely queued,
    /// and persisted if persistent), until `deadline` or `confirmTimeout`, whichever comes
    /// first; then it fails with `AMQPError.confirmTimeout` (the message may still arrive).
    public func publish(_ message: OutgoingMessage, deadline: ContinuousClock.Instant? = nil) async throws {
        let limit = confirmDeadline(deadline)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if let rejected = enqueuePublishes([.publish(message, deadline: limit) { continuation.resume(with: $0) }]) {
                continuation.resume(throwing: rejected)
            }
        }
    }

    /// Publishes several messages in this order, all in flight at once, and waits for every
    /// confirm. Throws the failure of the first message (in this order) that failed; the
    /// others may have been confirmed by then (`publishEach` says which).
    public func publish(_ messages: [OutgoingMessage]) async throws {
        for result in await publishEach(messages) { try result.get() }
    }

    /// Publishes several messages in this order, all in flight at once, and returns each
    /// one's outcome (confirmed, or why not), in the same order.
    public func publishEach(_ messages: [OutgoingMessage]) async -> [Result<Void, any Error>] {
        guard !messages.isEmpty else { return [] }
        let limit = confirmDeadline(nil)
        return await withCheckedContinuation { (continuation: CheckedContinuation<[Result<Void, any Error>], Never>) in
            let outcomes = Mutex(
                (remaining: messages.count, results: [Result<Void, any Error>?](repeating: nil, count: messages.count)))
            let commands = messages.indices.map { index -> Command in
                .publish(messages[index], deadline: limit) { result in
                    let finished = outcomes.withLock { state -> [Result<Void, any Error>]? in
                        state.results[index] = result
                        state.remaining -= 1
                        return state.remaining == 0 ? state.results.map { $0 ?? .failure(AMQPError.closed) } : nil
                    }
                    if let finished { continuation.resume(returning: finished) }
                }
            }
            if let rejected = enqueuePublishes(commands) {
                continuation.resume(returning: messages.map { _ in .failure(rejected) })
            }
        }
    }

    private func confirmDeadline(_ deadline: ContinuousClock.Instant?) -> ContinuousClock.Instant {
        let limit = ContinuousClock.now + confirmTimeout
        guard let deadline else { return limit }
        return min(deadline, limit)
    }

    /// Hands publishes to the owner thread, in this order, and wakes it; or says why not
    /// (publishing fails at once while disconnected, it is not queued for later).
    private func enqueuePublishes(_ commands: [Command]) -> (any Error)? {
        let rejected: (any Error)? = mailbox.state.withLock { state in
            if state.isClosed { return AMQPError.closed }
            guard state.isConnected else { return AMQPError.notConnected(state.lastError) }
            state.commands.append(contentsOf: commands)
            return nil
        }
        if rejected == nil { wake() }
        return rejected
    }

    /// Declares exchanges, queues and bindings, now and again after every reconnect.
    /// Waits until the broker has them (or refused them).
    public func declare(_ topology: Topology) async throws {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.declare(topology, continuation), orFail: continuation)
        }
    }

    /// Consumes a queue with manual acknowledgements and at most `prefetch` unacknowledged
    /// messages. The stream ends when the connection is closed or the broker cancels the
    /// consumer (the queue was deleted).
    public func consume(queue: String, prefetch: UInt16) async throws
        -> AsyncThrowingStream<Delivery, any Error>
    {
        let (stream, streamContinuation) = AsyncThrowingStream<Delivery, any Error>.makeStream()
        let tag = "\(queue).\(UUID().uuidString.prefix(8).lowercased())"
        let registration = ConsumerRegistration(
            queue: queue, consumerTag: tag, prefetch: prefetch, continuation: streamContinuation)
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.consume(registration, continuation), orFail: continuation)
        }
        streamContinuation.onTermination = { [weak self] _ in
            self?.send(.cancel(consumerTag: tag))
        }
        return stream
    }

    public func acknowledge(_ delivery: Delivery, multiple: Bool = false) {
        send(.acknowledge(tag: delivery.deliveryTag, multiple: multiple, generation: delivery.generation))
    }

    /// Rejects a delivery; with `requeue: false` the broker drops it (or dead-letters it if
    /// the queue says so).
    public func reject(_ delivery: Delivery, requeue: Bool) {
        send(.reject(tag: delivery.deliveryTag, requeue: requeue, generation: delivery.generation))
    }

    /// The depth and consumer count of a queue, or nil if it does not exist. Waits until
    /// the connection is up.
    public func status(ofQueue queue: String) async throws -> QueueStatus? {
        try await withCheckedThrowingContinuation { continuation in
            let closed = mailbox.state.withLock { state in
                if state.isClosed { return true }
                state.commands.append(.inspect(queue: queue, continuation))
                return false
            }
            if closed { continuation.resume(throwing: AMQPError.closed) } else { wake() }
        }
    }

    /// Waits until the connection is up, or the task is cancelled.
    public func waitUntilConnected() async {
        await withCheckedContinuation { continuation in
            let ready = mailbox.state.withLock { state in
                if state.isConnected || state.isClosed { return true }
                state.readinessWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Closes the connection: pending operations fail with `closed`, consumer streams end.
    public func close() {
        mailbox.state.withLock { $0.isClosed = true }
        wake()
    }

    private func enqueue(_ command: Command, orFail continuation: CheckedContinuation<Void, any Error>) {
        let closed = mailbox.state.withLock { state in
            if state.isClosed { return true }
            state.commands.append(command)
            return false
        }
        if closed { continuation.resume(throwing: AMQPError.closed) } else { wake() }
    }

    private func send(_ command: Command) {
        mailbox.state.withLock { state in
            if !state.isClosed { state.commands.append(command) }
        }
        wake()
    }

    private func wake() { mailbox.wake() }

    deinit { close() }
}

/// The state shared between the facade and the owner thread, and the eventfd that wakes
/// the owner thread when a command arrives.
final class SharedMailbox: Sendable {
    let state = Mutex(AMQPConnection.Mailbox())
    let wakeDescriptor = kindred_wake_descriptor()

    func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeDescriptor, &one, MemoryLayout<UInt64>.size)
    }

    /// Resets the eventfd after a wake-up.
    func drainWakeups() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeDescriptor, &value, MemoryLayout<UInt64>.size)
    }

    deinit { Glibc.close(wakeDescriptor) }
}
