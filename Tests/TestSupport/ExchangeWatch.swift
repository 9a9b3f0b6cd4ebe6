import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime

/// A temporary queue bound to the `kindred` exchange: it sees what every subscriber of
/// `routingKey` would, and disappears with its connection.
public struct ExchangeWatch: Sendable {
    public let broker: AMQPConnection
    public let routingKey: String
    public let deliveries: AsyncThrowingStream<Delivery, any Error>

    public init(broker: AMQPConnection, routingKey: String) async throws {
        let queue = TestEnvironment.uniqueName("\(routingKey).watch.")
        try await broker.declare(
            Topology(queues: [
                QueueDeclaration(
                    name: queue, durable: false, exclusive: true, autoDelete: true,
                    bindings: [Binding(exchange: Topology.exchangeName, routingKey: routingKey)])
            ]))
        self.broker = broker
        self.routingKey = routingKey
        self.deliveries = try await broker.consume(queue: queue, prefetch: 100)
    }

    /// Publishes a marker through the exchange and hands `each` every message that arrives
    /// before it (what was published earlier, and whatever other tests publish meanwhile).
    public func drainUntilMarker(_ each: (Delivery) -> Void) async throws {
        let marker = UUID().uuidString
        try await broker.publish(
            OutgoingMessage(
                exchange: Topology.exchangeName, routingKey: routingKey, body: Array("marker".utf8),
                properties: MessageProperties(messageID: marker), mandatory: true))
        for try await delivery in deliveries {
            broker.acknowledge(delivery)
            if delivery.properties.messageID == marker { return }
            each(delivery)
        }
    }
}

/// Writes events into a service's outbox as already published (the archive), so that its
/// running relay leaves them alone.
public func archive<E: Event>(_ envelopes: [Envelope<E>], in pool: DatabasePool) async throws {
    try await pool.transaction { connection in
        for envelope in envelopes {
            try Outbox.append(envelope, on: connection)
            try connection.execute("UPDATE outbox SET published_at = now() WHERE event_id = $1", [envelope.id])
        }
    }
}
