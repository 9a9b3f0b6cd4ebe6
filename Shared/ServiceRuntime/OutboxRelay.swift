import Contracts
import Foundation
import Logging
import Messaging
import Metrics
import Persistence
import ServiceLifecycle
import Synchronization

/// Publishes outbox rows with publisher confirms and marks them sent.
///
/// It wakes when this process commits new rows (`wake()`) and also polls, so rows written
/// by an instance that died are published too. Rows are locked with `SKIP LOCKED` while
/// they are published, so several instances never publish the same row at once; a crash
/// between the confirm and the mark publishes a row again, which consumers' inboxes make
/// harmless.
///
/// The AMQP message is built from the row's columns, never from decoding its body again:
/// what the service wrote is published as it is (a consumer that cannot read it
/// dead-letters it). A row that cannot be published at all (larger than the broker takes,
/// no usable type) is set aside with its reason and the relay goes on; an event whose
/// registry entry names consumers is published `mandatory`, and one the broker returns
/// (no queue bound yet) stays unsent and is tried again with growing pauses.
public final class OutboxRelay: Service, Sendable {
    private let pool: DatabasePool
    private let publisher: EventPublisher
    private let logger: Logger
    private let pollInterval: Duration
    private let batchSize: Int
    private let maxMessageBytes: Int
    private let exchange: String
    private let signal = WakeSignal()
    private let published: Counter
    private let backlog: Gauge
    private let setAside: Gauge
    private let oldestUnsentAge: Gauge
    /// Single-row passes left to find a row the broker refuses (see `drain`); 0 normally.
    private let isolating = Mutex(0)
    /// When the backlog was last measured: at most once a second, since every commit wakes
    /// the relay and the measurement is a query of its own.
    private let lastMeasured = Mutex(ContinuousClock.now - .seconds(60))

    public init(
        pool: DatabasePool, publisher: EventPublisher, logger: Logger,
        pollInterval: Duration = .seconds(1), batchSize: Int = 100,
        maxMessageBytes: Int = ConsumerLimits.defaultMaxMessageBytes, exchange: String = Topology.exchangeName
    ) {
        self.exchange = exchange
        self.pool = pool
        self.publisher = publisher
        self.logger = logger
        self.pollInterval = pollInterval
        self.batchSize = batchSize
        self.maxMessageBytes = maxMessageBytes
        published = Counter(label: "kindred_outbox_published_total")
        backlog = Gauge(label: "kindred_outbox_backlog")
        setAside = Gauge(label: "kindred_outbox_set_aside")
        oldestUnsentAge = Gauge(label: "kindred_outbox_oldest_unsent_age_seconds")
    }

    /// Asks the relay to look at the outbox now (after a commit that added rows).
    public func wake() { signal.wake() }

    public func run() async throws {
        // Graceful shutdown: flush what is left before returning.
        await signal.run(polling: pollInterval, { [self] in await drain() }, afterShutdown: { [self] in await drain() })
    }

    /// Publishes until the outbox has nothing due or publishing fails (retried on the next
    /// wake), then records the backlog.
    ///
    /// The broker refuses some publishes by closing the channel (no topic permission, over
    /// `max_message_size`), which fails the whole batch in flight. The relay then publishes
    /// one row at a time, so the row it refuses is found and set aside instead of failing
    /// every batch after it.
    package func drain() async {
        while true {
            do {
                let single = isolating.withLock { $0 > 0 }
                let limit = single ? 1 : batchSize
                let pass = try await publishBatch(limit: limit, setAsideRefused: single)
                if single {
                    isolating.withLock { left in left = pass.setAside > 0 ? 0 : max(0, left - pass.published) }
                }
                if let failure = pass.failure {
                    if !single, case AMQPError.refused = failure {
                        isolating.withLock { $0 = batchSize }
                        logger.warning(
                            "the broker refused a message of a batch; publishing one at a time to find it",
                            metadata: ["error": "\(failure)"])
                    } else {
                        logger.warning("outbox relay paused", metadata: ["error": "\(failure)"])
                    }
                    break
                }
                if pass.rows < limit { break }
            } catch {
                logger.warning("outbox relay paused", metadata: ["error": "\(error)"])
                break
            }
        }
        await measureBacklog()
    }

    private func measureBacklog() async {
        let due = lastMeasured.withLock { last in
            guard ContinuousClock.now - last >= .seconds(1) else { return false }
            last = .now
            return true
        }
        guard due else { return }
        let measured = try? await pool.withConnection { connection in
            try OutboxStore.backlog(on: connection)
        }
        guard let measured else { return }
        backlog.record(Double(measured.unsent))
        setAside.record(Double(measured.setAside))
        oldestUnsentAge.record(measured.oldestUnsentSeconds)
    }

    /// One pass: how many rows it took, and the failure that stopped it (the broker is away:
    /// the rows not confirmed stay unsent).
    struct Pass {
        var rows: Int
        var published = 0
        var setAside = 0
        var failure: (any Error)?
    }

    /// Publishes one batch inside a transaction that holds the rows' locks. With
    /// `setAsideRefused` (a batch of one), a row the broker refuses is set aside.
    func publishBatch(limit: Int, setAsideRefused: Bool) async throws -> Pass {
        let connection = publisher.connection
        let service = publisher.service
        let maxBytes = maxMessageBytes
        let exchange = exchange
        let logger = logger
        let pass = try await pool.transaction { database -> Pass in
            let rows = try OutboxStore.due(limit: limit, on: database)
            guard !rows.isEmpty else { return Pass(rows: 0) }
            var sendable: [(row: OutboxRow, message: OutgoingMessage)] = []
            var setAside = 0
            func putAside(_ row: OutboxRow, _ problem: OutboxRow.Unpublishable) throws {
                try OutboxStore.setAside(position: row.position, reason: problem.description, on: database)
                setAside += 1
                Counter(label: "kindred_outbox_set_aside_total", dimensions: [("reason", problem.reason)])
                    .increment()
                logger.error(
                    "an outbox row cannot be published; it is set aside",
                    metadata: [
                        "position": "\(row.position)", "event_type": "\(row.eventType)", "reason": "\(problem)",
                    ])
            }
            for row in rows {
                switch row.message(publisher: service, exchange: exchange, maxBytes: maxBytes) {
                case .success(let message): sendable.append((row, message))
                case .failure(let problem): try putAside(row, problem)
                }
            }
            // Publishing is async; this closure runs on the database connection's own thread,
            // so it waits for the confirms with a semaphore there, never on the cooperative pool.
            let messages = sendable.map(\.message)
            let outcomes = BlockingAwait.run { await connection.publishEach(messages) }
            var confirmed: [Int64] = []
            var returned: [(OutboxRow, String)] = []
            var failure: (any Error)?
            // One outcome per message, in order; a row without one stays unsent.
            for ((row, _), outcome) in zip(sendable, outcomes) {
                switch outcome {
                case .success: confirmed.append(row.position)
                case .failure(let error as AMQPError) where error.isAboutTheMessage:
                    returned.append((row, "\(error)"))
                case .failure(AMQPError.refused(let why)) where setAsideRefused:
                    try putAside(row, OutboxRow.Unpublishable(reason: "refused", detail: why))
                case .failure(let error): failure = failure ?? error
                }
            }
            try OutboxStore.markPublished(confirmed, on: database)
            for (row, error) in returned {
                try OutboxStore.deferRetry(position: row.position, error: error, on: database)
                let type = EventType(rawValue: row.eventType)
                let expected = (EventRegistry.descriptor(for: type)?.consumers ?? []).map {
                    EventRegistry.queueName(for: type, consumer: $0)
                }.joined(separator: ",")
                Counter(
                    label: "kindred_outbox_unroutable_total",
                    dimensions: [("event_type", row.eventType), ("expected_queues", expected)]
                ).increment()
                logger.warning(
                    "the broker returned an event: no queue is bound for it yet; it stays unsent and is tried again",
                    metadata: [
                        "event_type": "\(row.eventType)", "event_id": "\(row.eventID)", "error": "\(error)",
                        "expected_queues": "\(expected)", "hint": "declare the topology: kindred topology --declare",
                    ])
            }
            return Pass(rows: rows.count, published: confirmed.count, setAside: setAside, failure: failure)
        }
        published.increment(by: pass.published)
        return pass
    }
}
