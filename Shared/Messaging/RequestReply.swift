import Contracts
import Foundation
import Logging
import Synchronization

/// Why a request got no usable answer.
public enum RequestError: Error, Equatable, CustomStringConvertible {
    /// No answer arrived before the deadline.
    case deadlineExceeded
    /// The request could not be sent (broker down, no queue bound for the request).
    case unavailable(String)
    /// The service answered with a typed failure.
    case failed(RequestFailed)
    /// The answer was not the reply type the request names, nor a `RequestFailed`.
    case invalidReply(String)

    public var description: String {
        switch self {
        case .deadlineExceeded: "no answer before the deadline"
        case .unavailable(let why): "request not sent: \(why)"
        case .failed(let failure): "\(failure.code.rawValue): \(failure.detail)"
        case .invalidReply(let why): "invalid reply: \(why)"
        }
    }
}

/// Sends request events and waits, with a deadline, for their answers.
///
/// Each instance owns one exclusive, auto-deleted reply queue
/// (`Replies.<service>.<instance>`); requests carry it as `reply_to`, and an answer is
/// matched to its request by its `causationid`, which is the request's event id.
///
/// Requests are published on `publishing` (the service's publishing connection) and carry
/// their deadline (`x-kindred-deadline`); the whole request, confirm included, fits inside
/// the caller's timeout.
public final class RequestReplyClient: Sendable {
    /// Consumes the reply queue (which it declared, exclusively).
    public let connection: AMQPConnection
    public let publishing: AMQPConnection
    public let service: ServiceName
    public let replyQueue: String
    /// The exchange requests are published to (`kindred`; tests use their own).
    public let exchange: String
    /// The broker users whose answers are taken (nil: any); others are dropped.
    public let trustedRepliers: Set<String>?
    private let slots = Mutex<[String: Slot]>([:])
    private let codec = EnvelopeCodec()
    private let logger: Logger

    private enum Slot {
        case waiting(CheckedContinuation<[UInt8], any Error>?)
        case arrived([UInt8])
        /// The wait was cancelled before it began waiting: it must not begin.
        case cancelled
    }

    public init(
        connection: AMQPConnection, publishing: AMQPConnection? = nil, service: ServiceName, instance: String,
        logger: Logger, exchange: String = Topology.exchangeName, trustedRepliers: Set<String>? = nil
    ) {
        self.trustedRepliers = trustedRepliers
        self.connection = connection
        self.publishing = publishing ?? connection
        self.exchange = exchange
        self.service = service
        self.replyQueue = "Replies.\(service.rawValue).\(instance)"
        self.logger = logger
    }

    /// The reply queue to declare (again after every reconnect).
    public var topology: Topology {
        Topology(queues: [
            QueueDeclaration(
                name: replyQueue, durable: false, exclusive: true, autoDelete: true,
                arguments: ["x-queue-type": .string(QueueType.classic.rawValue)])
        ])
    }

    /// Receives answers until the task is cancelled.
    public func run() async throws {
        try await connection.declare(topology)
        let deliveries = try await connection.consume(queue: replyQueue, prefetch: 200)
        for try await delivery in deliveries {
            connection.acknowledge(delivery)
            if let trustedRepliers, !trustedRepliers.contains(delivery.properties.userID ?? "") {
                logger.warning(
                    "dropped an answer from a broker user that answers no request of ours",
                    metadata: ["user_id": "\(delivery.properties.userID ?? "-")"])
                continue
            }
            guard let header = try? codec.decodeHeader(delivery.body), let cause = header.causationid
            else {
                logger.warning("dropped an answer that is not a Kindred envelope")
                continue
            }
            deliver(delivery.body, to: cause)
        }
    }

    /// Sends `request` and waits for its reply until `timeout` has passed.
    public func request<Request: RequestEvent>(
        _ request: Envelope<Request>, timeout: Duration
    ) async throws(RequestError) -> Envelope<Request.Reply> {
        let deadline = ContinuousClock.now + timeout
        let id = request.id.uuidString
        let body: [UInt8]
        do { body = try codec.encode(request) } catch { throw .invalidReply("cannot encode: \(error)") }
        slots.withLock { $0[id] = .waiting(nil) }
        defer { slots.withLock { _ = $0.removeValue(forKey: id) } }
        let milliseconds = Int(timeout.milliseconds)
        var message = OutgoingMessage.event(
            body: body, header: request.header, publisher: service, mandatory: true, replyTo: replyQueue,
            expirationMilliseconds: max(1, milliseconds), exchange: exchange)
        // A request is worth nothing after its deadline, so it is not written to disk: the
        // broker confirms it at once instead of after an fsync. A broker restart loses it,
        // and the caller's deadline answers for it (504).
        message.properties.persistent = false
        message.properties.headers[RequestHeader.deadline] = RequestHeader.value(
            of: Date().addingTimeInterval(Double(milliseconds) / 1000))
        do {
            try await publishing.publish(message, deadline: deadline)
        } catch AMQPError.confirmTimeout {
            throw .deadlineExceeded
        } catch {
            logger.warning(
                "a request could not be sent", metadata: ["error": "\(error)", "event_type": "\(request.type)"])
            throw .unavailable("\(error)")
        }
        let remaining = deadline - ContinuousClock.now
        // The confirm took the whole deadline: no answer can be waited for any more.
        guard remaining > .zero else { throw .deadlineExceeded }
        let answer: [UInt8]
        do {
            answer = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                group.addTask { try await self.waitForAnswer(id: id) }
                group.addTask {
                    try await Task.sleep(for: remaining)
                    throw RequestError.deadlineExceeded
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw RequestError.deadlineExceeded }
                return first
            }
        } catch let error as RequestError {
            throw error
        } catch {
            throw .deadlineExceeded
        }
        if let reply = try? codec.decode(Request.Reply.self, from: answer) { return reply }
        do {
            let failure = try codec.decode(RequestFailed.self, from: answer)
            throw RequestError.failed(failure.data)
        } catch let error as RequestError {
            throw error
        } catch {
            logger.warning(
                "an answer could not be read", metadata: ["error": "\(error)", "event_type": "\(request.type)"])
            throw .invalidReply("\(error)")
        }
    }

    private func waitForAnswer(id: String) async throws -> [UInt8] {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let early: Result<[UInt8], any Error>? = slots.withLock { slots in
                    switch slots[id] {
                    case .arrived(let body): return .success(body)
                    case .cancelled: return .failure(CancellationError())
                    case .waiting, .none:
                        slots[id] = .waiting(continuation)
                        return nil
                    }
                }
                if let early { continuation.resume(with: early) }
            }
        } onCancel: {
            let waiting: CheckedContinuation<[UInt8], any Error>? = slots.withLock { slots in
                switch slots[id] {
                case .waiting(let continuation?):
                    slots[id] = .waiting(nil)
                    return continuation
                case .waiting(nil):
                    // Cancelled before the wait began (a deadline already due): it must not
                    // begin, or nothing would ever resume it.
                    slots[id] = .cancelled
                    return nil
                case .arrived, .cancelled, .none:
                    return nil
                }
            }
            waiting?.resume(throwing: CancellationError())
        }
    }

    private func deliver(_ body: [UInt8], to requestID: String) {
        let waiting: CheckedContinuation<[UInt8], any Error>?? = slots.withLock { slots in
            switch slots[requestID] {
            case .waiting(let continuation):
                if continuation == nil { slots[requestID] = .arrived(body) } else { slots[requestID] = .waiting(nil) }
                return .some(continuation)
            case .arrived, .cancelled, .none:
                return .none
            }
        }
        switch waiting {
        case .some(let continuation?): continuation.resume(returning: body)
        case .some(.none): break
        case .none: logger.debug("an answer arrived after its deadline", metadata: ["request_id": "\(requestID)"])
        }
    }
}
