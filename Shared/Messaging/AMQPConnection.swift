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
        /// The owner thread is (about to be) asleep in poll(2): only then does a command
        /// need an eventfd write to be seen; an awake owner takes it on its next pass.
        var ownerSleeping = false
        /// An eventfd write since the owner last woke: one is enough.
        var wakePending = false
    }

    /// Called once on the owner thread with the broker's confirm (or the failure).
    typealias PublishCompletion = @Sendable (Result<Void, any Error>) -> Void
    /// Called once on the owner thread with a request's reply (or why there is none).
    typealias RequestCompletion = @Sendable (Result<ReplyMessage, AMQPError>) -> Void

    /// A request waiting for its reply.
    struct RequestCommand: Sendable {
        let message: OutgoingMessage
        /// The request's message id, which its reply names as `correlation_id`.
        let id: String
        let deadline: ContinuousClock.Instant
        /// The broker users whose replies are taken (nil: any); others are dropped.
        let repliers: Set<String>?
        let complete: RequestCompletion
    }

    enum Command: Sendable {
        case publish(OutgoingMessage, deadline: ContinuousClock.Instant, PublishCompletion)
        case acknowledge(tag: UInt64, multiple: Bool, generation: Int)
        case reject(tag: UInt64, requeue: Bool, generation: Int)
        case declare(Topology, CheckedContinuation<Void, any Error>)
        case consume(ConsumerRegistration, CheckedContinuation<Void, any Error>)
        case cancel(consumerTag: String)
        case inspect(queue: String, CheckedContinuation<QueueStatus?, any Error>)
        case request(RequestCommand)
        case abandonRequest(id: String)
        /// Published without a confirm (a reply); dropped if it cannot go out by `deadline`.
        case send(OutgoingMessage, deadline: ContinuousClock.Instant)
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

    /// Sends a request and waits for its reply, until `deadline`.
    ///
    /// The request goes out on a channel without publisher confirms, `mandatory`, with
    /// RabbitMQ's direct reply-to (`amq.rabbitmq.reply-to`, consumed without acks on the same
    /// channel) as its `reply_to`: one frame set out and one in, no reply queue. The owner
    /// thread matches the reply by its `correlation_id`, which must be the request's
    /// `message_id`, and resumes the caller from there. A request no queue takes comes back
    /// (`basic.return`) and fails at once with `unroutable`; none that goes unanswered waits
    /// past its deadline (`noReply`). Replies from broker users outside `repliers` are dropped.
    ///
    /// `resume`, if given, runs the resumption of the caller (from the owner thread): a
    /// caller on an event loop has it run there, so that what it does next (writing its
    /// HTTP answer) happens on its own loop instead of one picked at random.
    public func request(
        _ message: OutgoingMessage, deadline: ContinuousClock.Instant, repliers: Set<String>? = nil,
        resume: ResumeScheduler? = nil
    ) async throws(AMQPError) -> ReplyMessage {
        let id = message.properties.messageID ?? UUID().uuidString
        var message = message
        message.properties.messageID = id
        message.properties.replyTo = AMQPConnection.directReplyTo
        let outgoing = message
        let result: Result<ReplyMessage, AMQPError> = await withTaskCancellationHandler {
            await withCheckedContinuation {
                (continuation: CheckedContinuation<Result<ReplyMessage, AMQPError>, Never>) in
                let command = RequestCommand(
                    message: outgoing, id: id, deadline: deadline, repliers: repliers,
                    complete: { result in
                        if let resume {
                            resume { continuation.resume(returning: result) }
                        } else {
                            continuation.resume(returning: result)
                        }
                    })
                if let rejected = enqueuePublishes([.request(command)]) {
                    continuation.resume(returning: .failure(rejected as? AMQPError ?? .closed))
                }
            }
        } onCancel: {
            send(.abandonRequest(id: id))
        }
        return try result.get()
    }

    /// Publishes without waiting for a confirm, on the channel requests use (`mandatory`: a
    /// message no queue takes is dropped by the broker, and by this connection). For
    /// replies: worthless after the requester's deadline, and the requester's own deadline
    /// answers for one lost. Not sent while the connection is down.
    public func send(_ message: OutgoingMessage, deadline: ContinuousClock.Instant? = nil) {
        _ = enqueuePublishes([.send(message, deadline: confirmDeadline(deadline))])
    }

    /// Runs a job on some thread of the caller's choosing (an event loop's `execute`).
    public typealias ResumeScheduler = @Sendable (@escaping @Sendable () -> Void) -> Void

    /// The pseudo-queue of RabbitMQ's direct reply-to.
    public static let directReplyTo = "amq.rabbitmq.reply-to"

    private func confirmDeadline(_ deadline: ContinuousClock.Instant?) -> ContinuousClock.Instant {
        let limit = ContinuousClock.now + confirmTimeout
        guard let deadline else { return limit }
        return min(deadline, limit)
    }

    /// Hands publishes to the owner thread, in this order, and wakes it; or says why not
    /// (publishing fails at once while disconnected, it is not queued for later).
    private func enqueuePublishes(_ commands: [Command]) -> (any Error)? {
        let (rejected, wake): ((any Error)?, Bool) = mailbox.state.withLock { state in
            if state.isClosed { return (AMQPError.closed, false) }
            guard state.isConnected else { return (AMQPError.notConnected(state.lastError), false) }
            state.commands.append(contentsOf: commands)
            return (nil, state.needsWake())
        }
        if wake { mailbox.wake() }
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
            if closed { continuation.resume(throwing: AMQPError.closed) } else { mailbox.wake() }
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
        mailbox.wake()
    }

    private func enqueue(_ command: Command, orFail continuation: CheckedContinuation<Void, any Error>) {
        let (closed, wake) = mailbox.state.withLock { state in
            if state.isClosed { return (true, false) }
            state.commands.append(command)
            return (false, state.needsWake())
        }
        if closed { continuation.resume(throwing: AMQPError.closed) } else if wake { mailbox.wake() }
    }

    private func send(_ command: Command) {
        let wake = mailbox.state.withLock { state in
            guard !state.isClosed else { return false }
            state.commands.append(command)
            return state.needsWake()
        }
        if wake { mailbox.wake() }
    }

    deinit { close() }
}

extension AMQPConnection.Mailbox {
    /// Called with the lock held after adding a command: whether the caller must write the
    /// eventfd (the owner sleeps and nobody woke it yet). Saves a syscall per command, and
    /// the owner a wake-up, whenever it is busy anyway.
    mutating func needsWake() -> Bool {
        guard ownerSleeping, !wakePending else { return false }
        wakePending = true
        return true
    }
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
