import Contracts
import Foundation
import Logging

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
/// A request is one publish and one await: it goes out on `publishing` (the service's
/// publishing connection) without a publisher confirm, `mandatory`, with RabbitMQ's direct
/// reply-to as `reply_to`; the answer comes back on that connection with the request's id
/// as its `correlation_id`, and the connection's owner thread resumes the waiting caller.
/// A request no queue takes fails at once (`unavailable`, 503); one not answered fails at
/// its deadline (`deadlineExceeded`, 504), which it also carries (`x-kindred-deadline`) so
/// the service drops it rather than apply it late.
public final class RequestReplyClient: Sendable {
    public let publishing: AMQPConnection
    public let service: ServiceName
    /// The exchange requests are published to (`kindred`; tests use their own).
    public let exchange: String
    /// The broker users whose answers are taken (nil: any); others are dropped.
    public let trustedRepliers: Set<String>?
    /// Asked at each request where the caller is to be resumed (nil: wherever Swift
    /// schedules it); `KindredRuntime.requestReplyClient()` keeps an HTTP handler on its
    /// connection's loop.
    public let resumeOn: @Sendable () -> AMQPConnection.ResumeScheduler?
    private let codec = EnvelopeCodec()
    private let logger: Logger

    public init(
        publishing: AMQPConnection, service: ServiceName, logger: Logger, exchange: String = Topology.exchangeName,
        trustedRepliers: Set<String>? = nil,
        resumeOn: @escaping @Sendable () -> AMQPConnection.ResumeScheduler? = { nil }
    ) {
        self.resumeOn = resumeOn
        self.trustedRepliers = trustedRepliers
        self.publishing = publishing
        self.exchange = exchange
        self.service = service
        self.logger = logger
    }

    /// Sends `request` and waits for its reply until `timeout` has passed.
    public func request<Request: RequestEvent>(
        _ request: Envelope<Request>, timeout: Duration
    ) async throws(RequestError) -> Envelope<Request.Reply> {
        let deadline = ContinuousClock.now + timeout
        let body: [UInt8]
        do { body = try codec.encode(request) } catch { throw .invalidReply("cannot encode: \(error)") }
        let milliseconds = Int(timeout.milliseconds)
        var message = OutgoingMessage.event(
            body: body, header: request.header, publisher: service, mandatory: true,
            expirationMilliseconds: max(1, milliseconds), exchange: exchange)
        // A request is worth nothing after its deadline, so it is not written to disk. A
        // broker restart loses it, and the caller's deadline answers for it (504).
        message.properties.persistent = false
        message.properties.headers[RequestHeader.deadline] = RequestHeader.value(
            of: Date().addingTimeInterval(Double(milliseconds) / 1000))
        let answer: ReplyMessage
        do {
            answer = try await publishing.request(
                message, deadline: deadline, repliers: trustedRepliers, resume: resumeOn())
        } catch AMQPError.noReply {
            throw .deadlineExceeded
        } catch {
            logger.warning(
                "a request could not be sent", metadata: ["error": "\(error)", "event_type": "\(request.type)"])
            throw .unavailable("\(error)")
        }
        // The AMQP type says which of the two answers it is, so it is decoded once.
        do {
            if answer.properties.type == RequestFailed.eventType.rawValue {
                throw RequestError.failed(try codec.decode(RequestFailed.self, from: answer.body).data)
            }
            return try codec.decode(Request.Reply.self, from: answer.body)
        } catch let error as RequestError {
            throw error
        } catch {
            logger.warning(
                "an answer could not be read", metadata: ["error": "\(error)", "event_type": "\(request.type)"])
            throw .invalidReply("\(error)")
        }
    }
}
