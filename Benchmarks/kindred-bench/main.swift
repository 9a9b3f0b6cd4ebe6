// Measures the delivery path on the real broker and database that scripts/bench starts:
// raw confirmed publishing, the outbox relay's throughput, and the latency an event gains
// by going through the outbox (commit → relay → broker → consumer) instead of being
// published directly, and `kindred replay` from the archive to a queue. Prints numbers
// and ratios; asserts nothing.
import Contracts
import Foundation
import KindredCLI
import Logging
import Messaging
import Persistence
import ServiceRuntime
import Synchronization

func environment(_ name: String) -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        FileHandle.standardError.write(Data("\(name) is not set: run through scripts/bench\n".utf8))
        exit(2)
    }
    return value
}

/// A number from the environment, or `fallback` when it is unset or not a number.
func setting<N: LosslessStringConvertible>(_ name: String, _ fallback: N) -> N {
    ProcessInfo.processInfo.environment[name].flatMap(N.init) ?? fallback
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func milliseconds(_ duration: Duration) -> Double { duration / .milliseconds(1) }

func line(_ label: String, _ value: String) { print(label.padding(toLength: 52, withPad: " ", startingAt: 0) + value) }

// The photo path is measured on its own (scripts/bench runs it after the wrk runs).
if ProcessInfo.processInfo.environment["KINDRED_BENCH_MODE"] == "photos" {
    try await PhotoBenchmark.run()
    exit(0)
}

let count = setting("KINDRED_BENCH_EVENTS", 20000)
let samples = setting("KINDRED_BENCH_SAMPLES", 500)
var logger = Logger(label: "bench")
logger.logLevel = .warning

let endpoint = try AMQPEndpoint(url: environment("KINDRED_ADMIN_AMQP_URL"))
let connection = AMQPConnection(endpoint: endpoint, name: "bench-publish", logger: logger)
let consumerConnection = AMQPConnection(endpoint: endpoint, name: "bench-consume", logger: logger)
let pool = DatabasePool(connectionString: environment("KINDRED_TEST_DATABASE_URL"), size: 4, logger: logger)
try await Migrator(pool: pool, logger: logger).migrate(component: SharedMigrations.component, SharedMigrations.all)

/// A queue of the bench's own on the suite's exchange, bound to `routingKey`; it goes away
/// ten minutes after its last use.
func declareBenchQueue(_ name: String, routingKey: String) async throws {
    try await connection.declare(
        Topology(
            exchanges: [Topology.exchange],
            queues: [
                QueueDeclaration(
                    name: name, durable: true, arguments: ["x-expires": .int(600_000)],
                    bindings: [Binding(exchange: Topology.exchangeName, routingKey: routingKey)])
            ]))
}

// A queue of our own bound to the event type the bench publishes.
let queue = "ProfileCreated.bench"
try await declareBenchQueue(queue, routingKey: "ProfileCreated")

let codec = EnvelopeCodec()
func event() throws -> (Envelope<ProfileCreated>, [UInt8]) {
    let userID = UUID()
    let envelope = Envelope(
        source: .profile, time: Date(), subject: userID.uuidString,
        data: ProfileCreated(userId: userID, sequence: 1), correlationID: "bench")
    return (envelope, try codec.encode(envelope))
}

/// Counts deliveries on the bench queue and records when each event id arrived.
final class Receiver: Sendable {
    private let arrivals = Mutex<[String: ContinuousClock.Instant]>([:])
    private let total = Mutex(0)
    var received: Int { total.withLock { $0 } }
    func record(_ id: String) {
        let now = ContinuousClock.now
        arrivals.withLock { $0[id] = now }
        total.withLock { $0 += 1 }
    }
    func arrival(of id: String) -> ContinuousClock.Instant? { arrivals.withLock { $0[id] } }
}

let receiver = Receiver()
let deliveries = try await consumerConnection.consume(queue: queue, prefetch: 500)
let consuming = Task {
    var pending = 0
    for try await delivery in deliveries {
        receiver.record(delivery.properties.messageID ?? "")
        pending += 1
        // Acknowledging every 100th with `multiple` beats one acknowledgement each.
        if pending >= 100 {
            consumerConnection.acknowledge(delivery, multiple: true)
            pending = 0
        }
    }
}

func waitFor(_ target: Int) async throws {
    while receiver.received < target { try await Task.sleep(for: .milliseconds(5)) }
}

// 1. Raw confirmed publishing, many in flight at once.
let publisher = EventPublisher(connection: connection, service: .profile)
var batch: [(EnvelopeHeader, [UInt8])] = []
for _ in 0..<count {
    let (envelope, body) = try event()
    batch.append((envelope.header, body))
}
let rawStart = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    var inFlight = 0
    for (header, body) in batch {
        if inFlight >= 200 {
            try await group.next()
            inFlight -= 1
        }
        group.addTask { try await publisher.publish(encoded: body, header: header) }
        inFlight += 1
    }
    try await group.waitForAll()
}
let rawSeconds = milliseconds(ContinuousClock.now - rawStart) / 1000
try await waitFor(count)
let rawRate = Double(count) / rawSeconds

// 2. The request path's floor: request and answer through the broker only (Echo.swift),
// with as many in flight as scripts/bench's wrk has connections, then one at a time.
let echoQueue = "BenchEcho.bench"
try await declareBenchQueue(echoQueue, routingKey: "BenchEcho")
let echoSeconds = setting("KINDRED_BENCH_ECHO_SECONDS", 10.0)
let echoInFlight = setting("KINDRED_BENCH_CONNECTIONS", 32)
let brokerCPU = ProcessCPU(
    pids: (ProcessInfo.processInfo.environment["KINDRED_BENCH_BROKER_PIDS"] ?? "").split(separator: " ").map(
        String.init))
let echoResponder = try await startEchoResponder(on: consumerConnection, queue: echoQueue)
let echoRequest = Envelope(
    source: .gateway, time: Date(), subject: UUID().uuidString, data: ProfileRequested(userId: UUID()),
    correlationID: "bench")
let echoBody = try codec.encode(echoRequest)
let echoMany = try await measureEcho(
    connection: connection, routingKey: "BenchEcho", body: echoBody, header: echoRequest.header,
    inFlight: echoInFlight, seconds: echoSeconds, broker: brokerCPU)
let echoOne = try await measureEcho(
    connection: connection, routingKey: "BenchEcho", body: echoBody, header: echoRequest.header, inFlight: 1,
    seconds: echoSeconds, broker: brokerCPU)
echoResponder.cancel()

// 3. The outbox relay: rows committed first, then published with confirms and marked.
try await pool.withConnection { try $0.execute("DELETE FROM outbox") }
try await pool.transaction { connection in
    for _ in 0..<count { try Outbox.append(try event().0, on: connection) }
}
let relay = OutboxRelay(pool: pool, publisher: publisher, logger: logger)
let baseline = receiver.received
let relayStart = ContinuousClock.now
let relaying = Task { try await relay.run() }
relay.wake()
try await waitFor(baseline + count)
let relaySeconds = milliseconds(ContinuousClock.now - relayStart) / 1000
let relayRate = Double(count) / relaySeconds

// 4. Latency, one event at a time: direct publish → consumer, and outbox commit → consumer.
func latency(viaOutbox: Bool) async throws -> [Double] {
    var results: [Double] = []
    for _ in 0..<samples {
        let (envelope, body) = try event()
        let id = envelope.id.uuidString
        let started = ContinuousClock.now
        if viaOutbox {
            try await pool.transaction { try Outbox.append(envelope, on: $0) }
            relay.wake()
        } else {
            try await publisher.publish(encoded: body, header: envelope.header)
        }
        while receiver.arrival(of: id) == nil { try await Task.sleep(for: .microseconds(200)) }
        if let arrived = receiver.arrival(of: id) { results.append(milliseconds(arrived - started)) }
    }
    return results.sorted()
}
let direct = try await latency(viaOutbox: false)
let outbox = try await latency(viaOutbox: true)

// 5. kindred replay: the archived rows of step 3 read back and published again, in order,
// to every subscriber (here the bench queue), until all arrived.
let replayBaseline = receiver.received
let replayStart = ContinuousClock.now
let replayed = try await ArchiveReplay.run(
    service: .profile, type: "ProfileCreated", max: count, pool: pool, broker: connection)
try await waitFor(replayBaseline + replayed)
let replaySeconds = milliseconds(ContinuousClock.now - replayStart) / 1000
let replayRate = Double(replayed) / replaySeconds

relaying.cancel()
consuming.cancel()
try await pool.withConnection { try $0.execute("DELETE FROM outbox") }

print("kindred-bench: \(count) events of \(batch.first?.1.count ?? 0) bytes, \(samples) latency samples")
line("raw publish with confirms (200 in flight)", String(format: "%8.0f events/s", rawRate))
for (label, echo) in [
    ("request/reply echo, broker only (\(echoInFlight) in flight)", echoMany),
    ("request/reply echo, broker only (1 in flight)", echoOne),
] {
    line(label, String(format: "%8.0f round trips/s", echo.rate))
    line(
        "  round trip",
        String(
            format: "p50 %6.2f ms  p99 %6.2f ms", percentile(echo.latenciesMilliseconds, 0.5),
            percentile(echo.latenciesMilliseconds, 0.99)))
    line(
        "  CPU per round trip",
        String(format: "RabbitMQ %5.0f µs  bench process %5.0f µs", echo.brokerPerRoundTrip, echo.benchPerRoundTrip))
}
line("echo (\(echoInFlight) in flight) / raw", String(format: "%8.2f", echoMany.rate / rawRate))
line("outbox relay (batches of 100, confirms, mark sent)", String(format: "%8.0f events/s", relayRate))
line("relay / raw", String(format: "%8.2f", relayRate / rawRate))
line("kindred replay, archive → queue (all arrived)", String(format: "%8.0f events/s", replayRate))
line("replay / raw", String(format: "%8.2f", replayRate / rawRate))
for (name, values) in [("direct publish → consumer", direct), ("outbox commit → relay → consumer", outbox)] {
    line(
        "latency \(name)",
        String(
            format: "p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms", percentile(values, 0.5), percentile(values, 0.9),
            percentile(values, 0.99)))
}
line(
    "added by the outbox hop (p50, p99)",
    String(
        format: "%6.2f ms, %6.2f ms", percentile(outbox, 0.5) - percentile(direct, 0.5),
        percentile(outbox, 0.99) - percentile(direct, 0.99)))
connection.close()
consumerConnection.close()
pool.close()
