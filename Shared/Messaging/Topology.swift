import Contracts

/// The kind of queue a service's durable queues are (configuration: `KINDRED_QUEUE_TYPE`).
public enum QueueType: String, Sendable, CaseIterable {
    case classic, quorum
}

public struct ExchangeDeclaration: Sendable, Hashable {
    public var name: String
    public var type: String
    public var durable: Bool

    public init(name: String, type: String = "topic", durable: Bool = true) {
        self.name = name
        self.type = type
        self.durable = durable
    }
}

public struct Binding: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String

    public init(exchange: String, routingKey: String) {
        self.exchange = exchange
        self.routingKey = routingKey
    }
}

public struct QueueDeclaration: Sendable, Hashable {
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    public var arguments: [String: HeaderValue]
    public var bindings: [Binding]

    public init(
        name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        arguments: [String: HeaderValue] = [:], bindings: [Binding] = []
    ) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
        self.bindings = bindings
    }
}

/// Exchanges and queues to declare, in order. Declaring is idempotent, and a connection
/// declares its topology again after every reconnect.
public struct Topology: Sendable, Hashable {
    public var exchanges: [ExchangeDeclaration]
    public var queues: [QueueDeclaration]

    public init(exchanges: [ExchangeDeclaration] = [], queues: [QueueDeclaration] = []) {
        self.exchanges = exchanges
        self.queues = queues
    }

    /// The one topic exchange of the suite.
    public static let exchangeName = "kindred"
    public static let exchange = ExchangeDeclaration(name: exchangeName)

    /// What a service declares, straight from the registry: the exchange, and for every
    /// event type it consumes the durable queue `<EventType>.<service>` bound with the
    /// routing key `<EventType>`, its retry queues and its `.dead` queue.
    public static func forService(
        _ service: ServiceName, queueType: QueueType, retryPolicy: RetryPolicy = .standard
    ) -> Topology {
        var queues: [QueueDeclaration] = []
        for descriptor in EventRegistry.consumed(by: service) {
            let name = EventRegistry.queueName(for: descriptor.type, consumer: service)
            let arguments: [String: HeaderValue] = ["x-queue-type": .string(queueType.rawValue)]
            queues.append(
                QueueDeclaration(
                    name: name, arguments: arguments,
                    bindings: [Binding(exchange: exchangeName, routingKey: descriptor.type.rawValue)]
                ))
            queues += retryPolicy.queues(for: name, arguments: arguments)
            queues.append(
                QueueDeclaration(name: EventRegistry.deadQueueName(for: name), arguments: arguments))
        }
        return Topology(exchanges: [exchange], queues: queues)
    }
}
