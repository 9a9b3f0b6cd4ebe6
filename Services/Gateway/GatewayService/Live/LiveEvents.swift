import Contracts
import Foundation
import Logging
import Messaging
import Persistence
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// One event for one user's live stream.
struct LiveEvent: Sendable, Equatable {
    let id: String
    let type: String
    let userID: UUID
    /// The envelope's `data`, as JSON.
    let data: String

    /// The Server-Sent Events frame.
    var frame: String { "id: \(id)\nevent: \(type)\ndata: \(data)\n\n" }
}

/// Why a live stream ended, told to the client in a last `event: end` frame.
enum StreamEnd: String, Sendable {
    /// The access token ran out: sign in again (refresh), then reconnect.
    case tokenExpired = "token-expired"
    /// The account was suspended or is being deleted.
    case accountClosed = "account-closed"

    var frame: String { "event: end\ndata: {\"reason\":\"\(rawValue)\"}\n\n" }
}

/// The signed-in users' open streams on this gateway instance, and the events for them.
final class LiveEventHub: Sendable {
    let maxStreamsPerUser: Int
    private let streams = Mutex<[UUID: [UUID: Subscription]]>([:])

    /// One open stream: its events, and how it is told to end.
    struct Subscription: Sendable {
        let events: AsyncStream<LiveEvent>.Continuation
        let ended: @Sendable (StreamEnd) -> Void
    }

    init(maxStreamsPerUser: Int = 5) { self.maxStreamsPerUser = maxStreamsPerUser }

    /// A stream of `user`'s events from now on, or nil when the user already has
    /// `maxStreamsPerUser` open here. It ends when the caller stops listening or
    /// `disconnect` ends it (`ended` is called first, with the reason).
    func subscribe(_ user: UUID, ended: @escaping @Sendable (StreamEnd) -> Void = { _ in }) -> AsyncStream<
        LiveEvent
    >? {
        let (stream, continuation) = AsyncStream<LiveEvent>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let id = UUID()
        let admitted = streams.withLock { streams in
            guard (streams[user]?.count ?? 0) < maxStreamsPerUser else { return false }
            streams[user, default: [:]][id] = Subscription(events: continuation, ended: ended)
            return true
        }
        guard admitted else { return nil }
        continuation.onTermination = { [weak self] _ in
            self?.streams.withLock { streams in
                streams[user]?[id] = nil
                if streams[user]?.isEmpty == true { streams[user] = nil }
            }
        }
        return stream
    }

    /// How many streams `user` has open here.
    func openStreams(of user: UUID) -> Int { streams.withLock { $0[user]?.count ?? 0 } }

    func deliver(_ event: LiveEvent) {
        let subscriptions = streams.withLock { Array(($0[event.userID] ?? [:]).values) }
        for subscription in subscriptions { subscription.events.yield(event) }
    }

    /// Ends every stream of `user` on this instance.
    func disconnect(_ user: UUID, reason: StreamEnd) {
        let subscriptions = streams.withLock { Array(($0[user] ?? [:]).values) }
        for subscription in subscriptions {
            subscription.ended(reason)
            subscription.events.finish()
        }
    }
}

/// Receives every event the registry streams to the gateway through this instance's own
/// auto-deleted queues, keeps it for the replay window (`live_events`), and hands it to the
/// hub. Rows older than the window expire with the service's janitor (`expiring`).
struct LiveEventListener: Service {
    let runtime: KindredRuntime
    let hub: LiveEventHub
    let retention: Duration

    /// The rows the replay window keeps.
    var expiring: ExpiringRows { ExpiringRows(table: "live_events", column: "received_at", retention: retention) }

    var topology: Topology {
        Topology(
            exchanges: [Topology.exchange],
            queues: EventRegistry.streamed(to: .gateway).map { descriptor in
                QueueDeclaration(
                    name: EventRegistry.instanceQueueName(
                        for: descriptor.type, consumer: .gateway, instance: runtime.configuration.instanceID),
                    durable: false, exclusive: true, autoDelete: true,
                    arguments: ["x-queue-type": .string(QueueType.classic.rawValue)],
                    bindings: [Binding(exchange: Topology.exchangeName, routingKey: descriptor.type.rawValue)])
            })
    }

    func run() async throws {
        let connection = runtime.consumerConnection
        try await connection.declare(topology)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for queue in topology.queues {
                    let type = EventType(rawValue: queue.bindings.first?.routingKey ?? "")
                    group.addTask { await consume(queue.name, of: type, on: connection) }
                }
            }
        }
    }

    private func consume(_ queue: String, of type: EventType, on connection: AMQPConnection) async {
        guard let deliveries = try? await connection.consume(queue: queue, prefetch: 200) else { return }
        // Who may publish this type, found once per queue rather than per event.
        let trusted = EventRegistry.trustedPublishers(
            of: type, consumer: .gateway, operator: runtime.configuration.operatorBrokerUser)
        let codec = EnvelopeCodec()
        do {
            for try await delivery in deliveries {
                connection.acknowledge(delivery)
                guard trusted.contains(delivery.properties.userID ?? ""),
                    let header = try? codec.decodeHeader(delivery.body), header.type == type,
                    let user = header.subject.flatMap(UUID.init(uuidString:)),
                    let data = Self.data(of: delivery.body)
                else { continue }
                let event = LiveEvent(id: header.id.uuidString, type: header.type.rawValue, userID: user, data: data)
                await keep(event)
                hub.deliver(event)
            }
        } catch {
            runtime.logger.warning("live events stopped", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
    }

    /// Keeps the event for streams that reconnect with `Last-Event-ID`. Several instances
    /// each keep their copy of the same event once.
    private func keep(_ event: LiveEvent) async {
        do {
            try await runtime.pool.withConnection { try LiveEventStore.keep(event, on: $0) }
        } catch {
            runtime.logger.warning("cannot keep a live event for replay", metadata: ["error": "\(error)"])
        }
    }

    /// The `data` member of an envelope as one line of JSON: its bytes as they came when
    /// they are on one line (services write compact JSON), else re-encoded compactly.
    static func data(of body: [UInt8]) -> String? {
        switch JSONScanner.member("data", in: body) {
        case .found(let range):
            let value = body[range]
            if !value.contains(0x0A) && !value.contains(0x0D) { return String(decoding: value, as: UTF8.self) }
            return reencodedData(of: body)
        // Malformed to the strict scanner (a byte order mark, nesting past its limit) may
        // still be JSON Foundation reads.
        case .unsupported, .malformed: return reencodedData(of: body)
        case .absent: return nil
        }
    }

    /// The `data` member re-encoded as compact JSON with sorted keys: for an envelope the
    /// scanner cannot pass on as it is.
    static func reencodedData(of body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let data = object["data"],
            let encoded = try? JSONSerialization.data(
                withJSONObject: data, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return nil }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// What a stream that reconnects missed: the user's kept events after `lastEventID`
    /// (all that are kept if that id is unknown or expired), oldest first.
    static func missed(by user: UUID, after lastEventID: String?, pool: DatabasePool) async throws -> [LiveEvent] {
        let lastID = lastEventID.flatMap(UUID.init(uuidString:))
        return try await pool.withConnection { try LiveEventStore.events(of: user, after: lastID, on: $0) }
    }
}
