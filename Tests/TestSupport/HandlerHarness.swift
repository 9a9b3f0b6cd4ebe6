import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// Runs a service's handlers against the real PostgreSQL of `scripts/test`, without a
/// broker and on a fixed clock, through the runtime's own `HandlerRunner` (the inbox claim,
/// the transaction, the kept answer, the deadline check), and shows what each delivery
/// did: the outbox rows it appended and the answer it produced.
///
/// Every harness has a scratch database of its own (the shared and the service's
/// migrations), so the outbox rows it shows are its test's only; `drop()` removes it.
public struct HandlerHarness: Sendable {
    public let service: ServiceName
    public let database: ScratchDatabase
    /// The time every delivery sees: answers are stamped with it and deadlines are checked
    /// against it. Give the handlers `clock` too.
    public let now: Date
    private let runner: HandlerRunner

    /// 2026-11-22T12:00:00Z, chosen by the tests rather than read from the clock.
    public static let defaultNow = Date(timeIntervalSince1970: 1_795_348_800)

    public var pool: DatabasePool { database.pool }

    /// `now`, as the clock a handler takes.
    public var clock: @Sendable () -> Date { { [now] in now } }

    public static func make(
        service: ServiceName, migrations: [Migration], now: Date = defaultNow
    ) async throws -> HandlerHarness {
        let database = try await ScratchDatabase.make([
            (SharedMigrations.component, SharedMigrations.all), (service.rawValue, migrations),
        ])
        return HandlerHarness(service: service, database: database, now: now)
    }

    /// Runs `body` with a new harness and drops its database afterwards, whether or not
    /// `body` threw.
    public static func with(
        service: ServiceName, migrations: [Migration], now: Date = defaultNow,
        _ body: (HandlerHarness) async throws -> Void
    ) async throws {
        let harness = try await make(service: service, migrations: migrations, now: now)
        do {
            try await body(harness)
        } catch {
            await harness.drop()
            throw error
        }
        await harness.drop()
    }

    private init(service: ServiceName, database: ScratchDatabase, now: Date) {
        self.service = service
        self.database = database
        self.now = now
        runner = HandlerRunner(pool: database.pool, service: service, now: { [now] in now })
    }

    /// The context a consumer of the service's queue for `type` would give a first delivery.
    public func context(
        for type: EventType, attempt: Int = 1, replayID: String? = nil, deadline: Date? = nil,
        replyTo: String? = nil
    ) -> MessageContext {
        MessageContext(
            queue: EventRegistry.queueName(for: type, consumer: service), attempt: attempt, replayID: replayID,
            deadline: deadline, replyTo: replyTo)
    }

    /// The `reply_to` requests carry unless a test gives another context.
    public static let replyTo = "Replies.tests"

    /// Delivers an event to its handler as the service's consumer would.
    public func deliver<Handler: EventHandler>(
        _ envelope: Envelope<Handler.Handled>, to handler: Handler, context: MessageContext? = nil
    ) async throws -> HandledEvent {
        let before = try await lastOutboxPosition()
        let outcome = try await runner.run(
            handler, envelope, context: context ?? self.context(for: Handler.handledType))
        return HandledEvent(duplicate: outcome == .duplicate, outbox: try await outbox(after: before))
    }

    /// Delivers a request to its handler as the service's consumer would, and decodes the
    /// answer the consumer would send.
    public func deliver<Handler: RequestHandler>(
        _ request: Envelope<Handler.Handled>, to handler: Handler, context: MessageContext? = nil
    ) async throws -> AnsweredRequest<Handler.Handled.Reply> {
        let before = try await lastOutboxPosition()
        let answer = try await runner.run(
            handler, request, context: context ?? self.context(for: Handler.handledType, replyTo: Self.replyTo))
        let reply = try answer.reply.map { encoded in
            try AnsweredRequest<Handler.Handled.Reply>.decode(encoded.body)
        }
        return AnsweredRequest(
            duplicate: answer.duplicate, outbox: try await outbox(after: before), reply: reply,
            replyBody: answer.reply?.body)
    }

    /// Removes the scratch database.
    public func drop() async { await database.drop() }

    /// Every event of a type in the outbox so far, oldest first: what work outside a
    /// handler (a background worker) published.
    public func published<E: Event>(_: E.Type) async throws -> [Envelope<E>] {
        let bodies = try await pool.withConnection { connection in
            try connection.execute(
                "SELECT body FROM outbox WHERE event_type = $1 ORDER BY position", [E.eventType.rawValue]
            ).rows.compactMap { $0.string("body") }
        }
        let codec = EnvelopeCodec()
        return try bodies.map { try codec.decode(E.self, from: Array($0.utf8)) }
    }

    private func lastOutboxPosition() async throws -> Int64 {
        try await pool.withConnection { connection -> Int64 in
            let row = try connection.execute("SELECT COALESCE(max(position), 0) AS position FROM outbox").first
            return row?.int64("position") ?? 0
        }
    }

    private func outbox(after position: Int64) async throws -> [OutboxEntry] {
        let bodies = try await pool.withConnection { connection in
            try connection.execute("SELECT body FROM outbox WHERE position > $1 ORDER BY position", [position])
                .rows.compactMap { $0.string("body") }
        }
        let codec = EnvelopeCodec()
        return try bodies.map { text in
            let body = Array(text.utf8)
            return OutboxEntry(header: try codec.decodeHeader(body), body: body)
        }
    }
}

/// One outbox row a delivery appended: its envelope's header and its body as stored.
public struct OutboxEntry: Sendable, Equatable {
    public let header: EnvelopeHeader
    public let body: [UInt8]

    /// The envelope, decoded as `E` (throws if it is another type).
    public func envelope<E: Event>(_: E.Type) throws -> Envelope<E> {
        try EnvelopeCodec().decode(E.self, from: body, header: header)
    }
}

/// What delivering an event did.
public struct HandledEvent: Sendable {
    /// The queue had processed it already: the handler did not run.
    public let duplicate: Bool
    /// The outbox rows its transaction appended, in order.
    public let outbox: [OutboxEntry]

    /// The appended events of type `E`, decoded.
    public func published<E: Event>(_: E.Type) throws -> [Envelope<E>] {
        try outbox.filter { $0.header.type == E.eventType }.map { try $0.envelope(E.self) }
    }
}

/// What delivering a request did, and the answer it got.
public struct AnsweredRequest<Reply: Event>: Sendable {
    /// The queue had processed it already: the handler did not run, the kept answer was sent.
    public let duplicate: Bool
    /// The outbox rows its transaction appended, in order.
    public let outbox: [OutboxEntry]
    /// The answer, decoded; nil when none would be sent (a request handled before answers
    /// were kept).
    public let reply: Result<Reply, RequestFailed>?
    /// The answer envelope byte for byte, as the consumer would send it.
    public let replyBody: [UInt8]?

    /// The appended events of type `E`, decoded.
    public func published<E: Event>(_: E.Type) throws -> [Envelope<E>] {
        try outbox.filter { $0.header.type == E.eventType }.map { try $0.envelope(E.self) }
    }

    /// An answer envelope: the reply type, or a `RequestFailed`.
    static func decode(_ body: [UInt8]) throws -> Result<Reply, RequestFailed> {
        let codec = EnvelopeCodec()
        let header = try codec.decodeHeader(body)
        if header.type == RequestFailed.eventType {
            return .failure(try codec.decode(RequestFailed.self, from: body, header: header).data)
        }
        return .success(try codec.decode(Reply.self, from: body, header: header).data)
    }
}
