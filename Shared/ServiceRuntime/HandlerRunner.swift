import Contracts
import Foundation
import Messaging
import Persistence

/// Runs handlers against the database, without a broker: the inbox claim, the transaction,
/// the reply kept for a redelivery and the deadline check. A service's consumers use it
/// and then send the reply and acknowledge; the handler test harness uses the same one.
package struct HandlerRunner: Sendable {
    package let pool: DatabasePool
    /// The `source` of the answers.
    package let service: ServiceName
    /// The time of answers, and what a request's deadline is checked against: the real
    /// clock in a service (deadlines are wall-clock times the requester wrote).
    package let now: @Sendable () -> Date
    /// Called after every commit that may have added outbox rows (wakes the relay).
    package let wake: @Sendable () -> Void
    private let codec = EnvelopeCodec()

    package init(
        pool: DatabasePool, service: ServiceName, now: @escaping @Sendable () -> Date = Date.init,
        wake: @escaping @Sendable () -> Void = {}
    ) {
        self.pool = pool
        self.service = service
        self.now = now
        self.wake = wake
    }

    /// What became of an event.
    package enum EventOutcome: Sendable, Equatable {
        case handled
        /// The queue had processed it already: nothing was done.
        case duplicate
    }

    /// An answer envelope, encoded, with its header (what the reply is sent from).
    package struct EncodedReply: Sendable, Equatable {
        package var body: [UInt8]
        package var header: EnvelopeHeader
    }

    /// What became of a request: the answer to send, and where.
    package struct Answer: Sendable, Equatable {
        /// The request's `reply_to`.
        package var replyTo: String
        /// The handler's answer, or the one kept when the request was first handled. Nil only
        /// for a redelivered request handled before answers were kept.
        package var reply: EncodedReply?
        /// The queue had processed the request already: the kept answer is sent again.
        package var duplicate: Bool
    }

    /// Claims the event in the inbox and runs the handler in that transaction; after the
    /// commit, wakes the relay and calls `committed`.
    package func run<Handler: EventHandler>(
        _ handler: Handler, _ envelope: Envelope<Handler.Handled>, context: MessageContext
    ) async throws -> EventOutcome {
        let claimed = try await pool.transaction { database -> Bool in
            guard try Self.claim(envelope.id, context: context, on: database) else { return false }
            try handler.handle(envelope, context: context, database: database)
            return true
        }
        guard claimed else { return .duplicate }
        wake()
        await handler.committed(envelope, context: context)
        return .handled
    }

    /// Runs a request's handler and returns its answer, encoded. A request that changes
    /// state is claimed in the inbox in the same transaction, its answer kept on the inbox
    /// row, and its deadline checked right before the commit (`RequestExpired`, rolled
    /// back); a redelivered one gets the kept answer. A request without `reply_to` cannot
    /// be answered and is not handled (`PermanentFailure`, dead-lettered).
    package func run<Handler: RequestHandler>(
        _ handler: Handler, _ request: Envelope<Handler.Handled>, context: MessageContext
    ) async throws -> Answer {
        guard let replyTo = context.replyTo, !replyTo.isEmpty else {
            throw PermanentFailure(reason: "no-reply-to", description: "a request without reply_to cannot be answered")
        }
        if Handler.isReadOnly {
            let result = try await pool.withConnection { database in
                try handler.handle(request, context: context, database: database)
            }
            return Answer(replyTo: replyTo, reply: try encode(result, answering: request), duplicate: false)
        }
        let messageID = request.id.uuidString
        let answer = try await pool.transaction { database -> Answer in
            guard try Self.claim(request.id, context: context, on: database) else {
                let kept = try InboxStore.reply(queue: context.queue, messageID: messageID, on: database)
                return Answer(replyTo: replyTo, reply: try kept.map { try decodeKept($0) }, duplicate: true)
            }
            let reply = try encode(
                try handler.handle(request, context: context, database: database), answering: request)
            // Checked last, right before the commit: a request whose requester gave up while
            // it was handled is rolled back, never applied late.
            try RequestExpired.check(context.deadline, now: now())
            // The answer is kept and the transaction committed in one round trip.
            try InboxStore.keepReplyAndCommit(
                String(decoding: reply.body, as: UTF8.self), queue: context.queue, messageID: messageID,
                on: database)
            return Answer(replyTo: replyTo, reply: reply, duplicate: false)
        }
        if !answer.duplicate { wake() }
        return answer
    }

    /// Claims message `id` for the context's queue in the inbox, with the try it succeeded
    /// on and the replay it came from; false if the queue processed it already.
    private static func claim(_ id: UUID, context: MessageContext, on database: DatabaseConnection) throws -> Bool {
        try InboxStore.claim(
            queue: context.queue, messageID: id.uuidString, attempts: context.attempt, replayID: context.replayID,
            on: database)
    }

    /// The answer envelope of `request`: caused by it, about the same subject.
    package func encode<Request: RequestEvent>(
        _ result: Result<Request.Reply, RequestFailed>, answering request: Envelope<Request>
    ) throws -> EncodedReply {
        let time = now()
        switch result {
        case .success(let reply):
            return try encoded(
                Envelope(causedBy: request, source: service, time: time, subject: request.subject, data: reply))
        case .failure(let failure):
            return try encoded(
                Envelope(causedBy: request, source: service, time: time, subject: request.subject, data: failure))
        }
    }

    private func encoded<E: Event>(_ envelope: Envelope<E>) throws -> EncodedReply {
        EncodedReply(body: try codec.encode(envelope), header: envelope.header)
    }

    /// An answer kept on an inbox row, as it was sent the first time.
    private func decodeKept(_ text: String) throws -> EncodedReply {
        let body = Array(text.utf8)
        return EncodedReply(body: body, header: try codec.decodeHeader(body))
    }
}
