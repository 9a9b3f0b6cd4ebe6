import Contracts
import Foundation
import Messaging
import Persistence

/// One outbox row as the relay reads it: the columns an AMQP message is built from.
struct OutboxRow: Sendable {
    let position: Int64
    let eventID: String
    let eventType: String
    let correlationID: String
    let occurredAt: Date
    let body: [UInt8]

    /// Why a row cannot be published at all.
    struct Unpublishable: Error, CustomStringConvertible {
        let reason: String
        let detail: String
        var description: String { "\(reason): \(detail)" }
    }

    /// The message to publish, built from the columns (the body is not decoded again), or
    /// why there can be none.
    func message(publisher: ServiceName, exchange: String, maxBytes: Int) -> Result<OutgoingMessage, Unpublishable> {
        guard body.count <= maxBytes else {
            return .failure(
                Unpublishable(reason: "too-large", detail: "the body has \(body.count) bytes; the limit is \(maxBytes)")
            )
        }
        // AMQP short strings: at most 255 bytes.
        guard (1...255).contains(eventType.utf8.count), correlationID.utf8.count <= 255 else {
            return .failure(
                Unpublishable(
                    reason: "invalid-row", detail: "event_type must be 1 to 255 bytes and correlation_id at most 255"))
        }
        let descriptor = EventRegistry.descriptor(for: EventType(rawValue: eventType))
        // Events that durable queues wait for must reach one: the broker returns them while
        // no queue is bound (a fresh deployment), and they are tried again. Live-stream copies
        // (per-instance queues) are worthless when nobody listens.
        let mandatory = !(descriptor?.consumers.isEmpty ?? true)
        return .success(
            OutgoingMessage(
                exchange: exchange, routingKey: eventType, body: body,
                properties: MessageProperties(
                    messageID: eventID, type: eventType, correlationID: correlationID, timestamp: occurredAt,
                    appID: publisher.rawValue),
                mandatory: mandatory))
    }
}

/// The SQL of the shared `outbox` table: what a service's transaction appends, and what
/// the relay reads and marks.
enum OutboxStore {
    /// Appends an encoded event inside the caller's transaction.
    static func append(
        eventID: UUID, type: EventType, subject: String?, correlationID: String, occurredAt: Date, body: String,
        on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            prepared: """
                INSERT INTO outbox (event_id, event_type, subject, correlation_id, occurred_at, body)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
            [eventID, type.rawValue, subject, correlationID, occurredAt, body])
    }

    /// Unsent rows that are due (not set aside, not waiting for a retry), oldest first,
    /// locked for this transaction.
    static func due(limit: Int, on connection: DatabaseConnection) throws -> [OutboxRow] {
        try connection.execute(
            """
            SELECT position, upper(event_id::text) AS event_id, event_type, correlation_id,
                   EXTRACT(EPOCH FROM occurred_at)::float8 AS occurred_at, body
            FROM outbox
            WHERE published_at IS NULL AND set_aside_at IS NULL
              AND (next_attempt_at IS NULL OR next_attempt_at <= now())
            ORDER BY position LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [limit]
        ).rows.compactMap { row in
            guard let position = row.int64("position"), let eventID = row.string("event_id"),
                let eventType = row.string("event_type"), let correlationID = row.string("correlation_id"),
                let occurred = row.string("occurred_at").flatMap(Double.init), let body = row.string("body")
            else { return nil }
            return OutboxRow(
                position: position, eventID: eventID, eventType: eventType, correlationID: correlationID,
                occurredAt: Date(timeIntervalSince1970: occurred), body: Array(body.utf8))
        }
    }

    static func markPublished(_ positions: [Int64], on connection: DatabaseConnection) throws {
        guard !positions.isEmpty else { return }
        let list = "{" + positions.map { String($0) }.joined(separator: ",") + "}"
        try connection.execute(
            prepared: "UPDATE outbox SET published_at = now(), last_error = NULL WHERE position = ANY($1::bigint[])",
            [list])
    }

    /// The broker refused this row for now: try it again after a pause that doubles with
    /// every attempt, at most a minute.
    static func deferRetry(position: Int64, error: String, on connection: DatabaseConnection) throws {
        try connection.execute(
            """
            UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = now() + make_interval(secs => least(60, power(2, least(attempts, 6))))
            WHERE position = $1
            """, [position, String(error.prefix(500))])
    }

    /// A row that can never be published: kept, with its reason, for an operator.
    static func setAside(position: Int64, reason: String, on connection: DatabaseConnection) throws {
        try connection.execute(
            "UPDATE outbox SET set_aside_at = now(), last_error = $2 WHERE position = $1",
            [position, String(reason.prefix(500))])
    }

    struct Backlog: Sendable {
        var unsent: Int64
        var setAside: Int64
        var oldestUnsentSeconds: Double
    }

    static func backlog(on connection: DatabaseConnection) throws -> Backlog {
        let row = try connection.execute(
            """
            SELECT count(*) FILTER (WHERE set_aside_at IS NULL) AS backlog,
                   count(*) FILTER (WHERE set_aside_at IS NOT NULL) AS set_aside,
                   COALESCE(EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE set_aside_at IS NULL)), 0)::float8
                       AS oldest
            FROM outbox WHERE published_at IS NULL
            """
        ).first
        return Backlog(
            unsent: row?.int64("backlog") ?? 0, setAside: row?.int64("set_aside") ?? 0,
            oldestUnsentSeconds: row?.string("oldest").flatMap(Double.init) ?? 0)
    }
}
