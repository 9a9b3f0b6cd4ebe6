import Contracts
import Foundation

extension OutgoingMessage {
    /// An event routed through the `kindred` exchange with its type as the routing key, the
    /// AMQP properties repeating the envelope's id, type, correlation id and time.
    public static func event(
        body: [UInt8], header: EnvelopeHeader, publisher: ServiceName, mandatory: Bool = false,
        replyTo: String? = nil, expirationMilliseconds: Int? = nil, exchange: String = Topology.exchangeName
    ) -> OutgoingMessage {
        OutgoingMessage(
            exchange: exchange, routingKey: header.type.rawValue, body: body,
            properties: MessageProperties(
                messageID: header.id.uuidString, type: header.type.rawValue,
                correlationID: header.correlationid, replyTo: replyTo, timestamp: header.time,
                appID: publisher.rawValue, expirationMilliseconds: expirationMilliseconds),
            mandatory: mandatory)
    }
}

/// Publishes envelopes as events of one service, each with a publisher confirm.
public struct EventPublisher: Sendable {
    public let connection: AMQPConnection
    public let service: ServiceName
    private let codec = EnvelopeCodec()

    public init(connection: AMQPConnection, service: ServiceName) {
        self.connection = connection
        self.service = service
    }

    /// Publishes an event to every queue bound to its type.
    public func publish<E: Event>(_ envelope: Envelope<E>) async throws {
        let body = try codec.encode(envelope)
        try await connection.publish(.event(body: body, header: envelope.header, publisher: service))
    }

    /// Publishes bytes already encoded (the outbox keeps events encoded).
    public func publish(encoded body: [UInt8], header: EnvelopeHeader) async throws {
        try await connection.publish(.event(body: body, header: header, publisher: service))
    }

    /// Publishes encoded events in this order, all in flight at once; throws if any failed.
    public func publish(encoded events: [(body: [UInt8], header: EnvelopeHeader)]) async throws {
        try await connection.publish(events.map { .event(body: $0.body, header: $0.header, publisher: service) })
    }

    /// Sends an answer straight to a requester's `reply_to` (its direct reply-to, through the
    /// default exchange), with the request's id (the answer's `causationid`) as
    /// `correlation_id`, which is how the requester matches it. No confirm is waited for: the
    /// requester's deadline answers for a lost reply. Not sent after `deadline`.
    public func reply<E: Event>(
        _ envelope: Envelope<E>, to replyTo: String, deadline: ContinuousClock.Instant? = nil
    ) throws {
        reply(encoded: try codec.encode(envelope), header: envelope.header, to: replyTo, deadline: deadline)
    }

    /// Sends an answer encoded already (a stored reply sent again), as `reply` does.
    public func reply(
        encoded body: [UInt8], header: EnvelopeHeader, to replyTo: String, deadline: ContinuousClock.Instant? = nil
    ) {
        connection.send(.reply(body: body, header: header, publisher: service, to: replyTo), deadline: deadline)
    }
}

extension OutgoingMessage {
    /// An answer for `replyTo` through the default exchange, `mandatory`, transient (it is
    /// worthless after the requester's deadline), its `correlation_id` the id of the request
    /// it answers (RabbitMQ's RPC convention; the envelope keeps its own correlation id).
    public static func reply(body: [UInt8], header: EnvelopeHeader, publisher: ServiceName, to replyTo: String)
        -> OutgoingMessage
    {
        var message = OutgoingMessage.event(body: body, header: header, publisher: publisher, mandatory: true)
        message.exchange = ""
        message.routingKey = replyTo
        message.properties.correlationID = header.causationid
        message.properties.persistent = false
        return message
    }
}
