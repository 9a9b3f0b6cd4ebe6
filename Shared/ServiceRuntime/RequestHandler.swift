import Contracts
import Foundation
import Logging
import Messaging
import Persistence

/// Answers one request type (a `RequestEvent` from the gateway): `handle` returns the
/// reply or a typed failure, and the runtime sends it to the request's `reply_to`.
///
/// A request that changes state runs in one transaction with its inbox claim; the encoded
/// answer is kept on the inbox row, and the deadline is checked right before the commit (a
/// request past it is rolled back and dropped: its requester already answered 504). A
/// redelivered request is not handled again: it gets the identical answer again. A
/// `.failure` answer is kept and sent the same way, and its transaction commits the claim
/// too, so a handler that fails a request must have written nothing.
public protocol RequestHandler: MessageHandler {
    associatedtype Handled: RequestEvent
    /// A request that only reads (default false) runs on a pooled connection without
    /// transaction or inbox claim: answering it twice changes nothing.
    static var isReadOnly: Bool { get }
    /// Runs inside the request's transaction (on a pooled connection if `isReadOnly`); what
    /// it appends to the outbox commits with it.
    func handle(_ envelope: Envelope<Handled>, context: MessageContext, database: DatabaseConnection) throws
        -> Result<Handled.Reply, RequestFailed>
}

extension RequestHandler {
    public static var handledType: EventType { Handled.eventType }

    public static var isReadOnly: Bool { false }

    public func consumer(on runtime: KindredRuntime) -> EventConsumer {
        let runner = runtime.handlerRunner
        let logger = runtime.logger
        return runtime.consumer(of: Handled.self) { request, context in
            let answer = try await runner.run(self, request, context: context)
            guard let reply = answer.reply else {
                logger.warning(
                    "a redelivered request was handled before answers were kept: it is not answered again",
                    metadata: ["event_id": "\(request.id.uuidString)", "event_type": "\(request.type)"])
                return
            }
            runtime.sendReply(reply.body, header: reply.header, to: answer.replyTo, deadline: context.deadline)
        }
    }
}
