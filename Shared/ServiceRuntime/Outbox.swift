import Contracts
import Persistence

/// Writes events into the outbox inside the caller's transaction.
public enum Outbox {
    /// Adds an event to the outbox; it is published after the transaction commits.
    public static func append<E: Event>(_ envelope: Envelope<E>, on connection: DatabaseConnection) throws {
        let body = String(decoding: try EnvelopeCodec().encode(envelope), as: UTF8.self)
        try OutboxStore.append(
            eventID: envelope.id, type: envelope.type, subject: envelope.subject,
            correlationID: envelope.correlationid, occurredAt: envelope.time, body: body, on: connection)
    }
}
