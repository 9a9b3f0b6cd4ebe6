import Contracts
import Foundation
import Logging
import Messaging
import Persistence
import Prometheus
import Synchronization

/// Everything a running service shares: its configuration, database pool, broker
/// connections, outbox relay and readiness.
public final class KindredRuntime: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let pool: DatabasePool
    /// Consumes the service's queues and sends the answers to requests.
    public let consumerConnection: AMQPConnection
    /// Publishes events (outbox relay), requests, replies, retries and dead letters. Kept
    /// apart from consuming so that a broker blocking publishers (resource alarm) never
    /// stalls acknowledgements.
    public let publisherConnection: AMQPConnection
    public let publisher: EventPublisher
    /// Sends the answers to requests on the consuming connection: the answer goes out in the
    /// same pass of its owner thread as the request's acknowledgement, neither waiting for a
    /// confirm (a blocked broker holds answers there until their deadline).
    public let replies: EventPublisher
    public let relay: OutboxRelay
    public let readiness: Readiness
    public let metrics: PrometheusCollectorRegistry
    private let commitListeners = CommitListeners()

    public init(configuration: ServiceConfiguration, logger: Logger, metrics: PrometheusCollectorRegistry) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        let name = configuration.service.rawValue
        pool = DatabasePool(
            connectionString: configuration.databaseURL, size: configuration.databasePoolSize, name: name,
            logger: logger, defaults: configuration.databaseDefaults,
            acquireTimeout: .milliseconds(configuration.databaseAcquireTimeoutMilliseconds))
        let confirmTimeout = Duration.milliseconds(configuration.confirmTimeoutMilliseconds)
        consumerConnection = AMQPConnection(
            endpoint: configuration.amqp, name: "\(name)-consume", logger: logger, confirmTimeout: confirmTimeout)
        publisherConnection = AMQPConnection(
            endpoint: configuration.amqp, name: "\(name)-publish", logger: logger, confirmTimeout: confirmTimeout)
        publisher = EventPublisher(connection: publisherConnection, service: configuration.service)
        replies = EventPublisher(connection: consumerConnection, service: configuration.service)
        relay = OutboxRelay(
            pool: pool, publisher: publisher, logger: logger, maxMessageBytes: configuration.maxMessageBytes)
        readiness = Readiness(connections: [consumerConnection, publisherConnection], pool: pool)
    }

    public var service: ServiceName { configuration.service }

    /// Closes the broker connections and the database pool.
    public func close() {
        consumerConnection.close()
        publisherConnection.close()
        pool.close()
    }

    /// Runs `work` in one transaction, then wakes the outbox relay, which publishes what the
    /// transaction appended to the outbox.
    public func transaction<T: Sendable>(_ work: @escaping @Sendable (DatabaseConnection) throws -> T) async throws
        -> T
    {
        let result = try await pool.transaction(work)
        relay.wake()
        return result
    }

    /// Runs handlers: on the real clock, waking the relay (and whatever `afterCommit`
    /// added) after each commit.
    package var handlerRunner: HandlerRunner {
        HandlerRunner(
            pool: pool, service: service,
            wake: { [relay, commitListeners] in
                relay.wake()
                commitListeners.notify()
            })
    }

    /// Adds something to wake after every commit of a handler (a worker that picks up what
    /// handlers leave for it), besides the relay.
    public func afterCommit(_ wake: @escaping @Sendable () -> Void) { commitListeners.add(wake) }
}

/// What `KindredRuntime.afterCommit` collected; added to while a service is built, called
/// after each handler's commit.
final class CommitListeners: Sendable {
    private let listeners = Mutex<[@Sendable () -> Void]>([])

    func add(_ listener: @escaping @Sendable () -> Void) { listeners.withLock { $0.append(listener) } }

    func notify() {
        for listener in listeners.withLock({ $0 }) { listener() }
    }
}
