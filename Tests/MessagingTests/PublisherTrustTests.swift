import Contracts
import Foundation
import Messaging
import Synchronization
import TestSupport
import Testing

/// Who may publish what: the broker's topic permissions (generated from the registry) and
/// the consumers' check of the broker-verified `user_id`.
extension MessagingTests {
    func serviceConnection(_ service: ServiceName) throws -> AMQPConnection {
        AMQPConnection(
            endpoint: try AMQPEndpoint(url: try TestEnvironment.amqpURL(of: service.rawValue)),
            name: "\(service.rawValue)-user", logger: TestEnvironment.logger("amqp"))
    }

    @Test("a service may publish to kindred only the types it produces, and bind only the types it consumes")
    func topicPermissions() async throws {
        defer { connection.close() }
        try await connection.declare(Topology.forService(.media, queueType: .classic))
        let media = try serviceConnection(.media)
        defer { media.close() }
        await media.waitUntilConnected()
        let forged = OutgoingMessage(
            exchange: Topology.exchangeName, routingKey: "AccountDeletionRequested", body: Array("{}".utf8),
            properties: MessageProperties(messageID: UUID().uuidString, type: "AccountDeletionRequested"))
        do {
            try await media.publish(forged)
            Issue.record("media published AccountDeletionRequested to kindred")
        } catch let error as AMQPError {
            #expect("\(error)".contains("403"), "\(error)")
        }
        // Binding one of its own queues to everything would read every event.
        let media2 = try serviceConnection(.media)
        defer { media2.close() }
        do {
            try await media2.declare(
                Topology(queues: [
                    QueueDeclaration(
                        name: "Everything.media", durable: false, autoDelete: true,
                        bindings: [Binding(exchange: Topology.exchangeName, routingKey: "#")])
                ]))
            Issue.record("media bound a queue of its own to # on kindred")
        } catch let error as AMQPError {
            #expect("\(error)".contains("403"), "\(error)")
        }
        // What a service does produce goes through: every end-to-end test publishes the
        // gateway's events to kindred as kindred_gateway (not repeated here, where another
        // test's `kindred tail` could see it).
    }

    @Test("a consumer dead-letters, as forged-source, what a broker user it does not trust published")
    func forgedSource() async throws {
        defer { connection.close() }
        let queue = try await declareQueue("UserRegistered", dead: true)
        let handled = Mutex<[String]>([])
        let consumer = EventConsumer(
            connection: connection, queue: queue, acceptedTypes: ["UserRegistered"],
            trustedPublishers: EventRegistry.trustedPublishers(
                of: "UserRegistered", consumer: .profile, operator: "kindred_admin"),
            logger: TestEnvironment.logger("consumer")
        ) { _, delivery in handled.withLock { $0.append(delivery.properties.userID ?? "?") } }
        let task = Task { try await consumer.run() }
        defer { task.cancel() }
        let body = try registeredEnvelope(subject: "who")
        // Through the default exchange, which every service may write to: only user_id,
        // which the broker checks against the connection, tells who sent it.
        for service in [ServiceName.media, .gateway] {
            let sender = try serviceConnection(service)
            defer { sender.close() }
            await sender.waitUntilConnected()
            var direct = message("UserRegistered", body: body, id: "from-\(service.rawValue)")
            direct.exchange = ""
            direct.routingKey = queue
            try await sender.publish(direct)
        }
        let reasons = try await deadReasons(of: queue, count: 1)
        #expect(reasons == ["from-media": "forged-source"])
        #expect(try await eventually { handled.withLock { $0 } == ["kindred_gateway"] })
        #expect(
            EventRegistry.trustedPublishers(of: "UserRegistered", consumer: .profile, operator: "kindred_admin")
                == ["kindred_gateway", "kindred_profile", "kindred_admin"])
        #expect(EventRegistry.trustedRepliers(to: .gateway) == ["kindred_media", "kindred_profile"])
        // Every service that erases part of an account confirms it.
        #expect(
            EventRegistry.trustedPublishers(of: "UserDataErased", consumer: .gateway, operator: "kindred_admin")
                == ["kindred_gateway", "kindred_profile", "kindred_media", "kindred_admin"])
    }
}
