import ArgumentParser
import Contracts
import Foundation
import Messaging
import Persistence

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish archived events again. Shows what it would do unless --execute.",
        discussion: """
            Selection is the same as `kindred events` (a service's outbox archive and filters).

            How replay and the consumers' inbox interact: a replayed event keeps its original id,
            so a consumer that already processed it acknowledges it without running its handler
            again — replay is safe, and reaches only consumers that missed the event. --as-new mints
            new ids on purpose, so every consumer processes the events again.

            --to <service> delivers only to that service's queue for each type (through the default
            exchange), so other consumers are not disturbed; without it every subscriber gets them.
            Replayed messages carry x-kindred-replay-id and x-kindred-original-message-id, and
            every executed replay is recorded in the service's `replays` table (who, when,
            selection, destination, count).

            Examples:
              kindred replay --service gateway --type UserRegistered --since 2026-11-22T00:00:00Z
              kindred replay --service gateway --type UserRegistered --to profile --rate 200 --execute
              kindred replay --service profile --correlation <X-Request-ID> --as-new --max 10 --execute
            """)

    @Option(help: "The service whose outbox archive to replay from.") var service: String
    @OptionGroup var filter: EventFilter
    @Option(help: "Deliver only to this service's queues.") var to: String?
    @Option(help: "At most this many events per second.") var rate: Double?
    @Option(help: "At most this many events.") var max = 1000
    @Flag(help: "Mint new event ids so that consumers process the events again.") var asNew = false
    @Flag(name: .customLong("execute"), help: "Do it; without this flag replay only shows what it would do.")
    var executeForReal = false

    func run() async throws {
        try await execute {
            guard let source = ServiceName(rawValue: service) else {
                throw CLIError("unknown service '\(service)'", exitCode: 2)
            }
            let target = try to.map { name -> ServiceName in
                guard let target = ServiceName(rawValue: name) else {
                    throw CLIError("unknown service '\(name)' for --to", exitCode: 2)
                }
                return target
            }
            if let rate, rate <= 0 { throw CLIError("--rate must be above 0", exitCode: 2) }
            let environment = try CLIEnvironment.load()
            let pool = try environment.database(source)
            defer { pool.close() }
            let events = try await filter.events(of: source, from: pool, limit: max)
            let plan = try Plan(events: events, target: target)
            guard executeForReal else { return plan.summary + "\n(dry run: add --execute to publish)" }
            let broker = try await environment.broker()
            defer { broker.close() }
            let replayID = try await Self.replay(
                plan, asNew: asNew, rate: rate, on: broker, audit: pool,
                selection: CommandLine.arguments.dropFirst().joined(separator: " "))
            return plan.summary + "\nreplayed \(plan.events.count) events (replay \(replayID))"
        }
    }

    /// Which events go where.
    struct Plan {
        let events: [ArchivedEvent]
        let target: ServiceName?

        init(events: [ArchivedEvent], target: ServiceName?) throws {
            self.events = events
            self.target = target
            if let target {
                for event in events {
                    let consumers = EventRegistry.descriptor(for: EventType(rawValue: event.type))?.consumers ?? []
                    guard consumers.contains(target) else {
                        throw CLIError(
                            "\(target.rawValue) does not consume \(event.type); drop --to or narrow --type", exitCode: 2
                        )
                    }
                }
            }
        }

        /// Where one event goes: a queue (with --to) or the exchange.
        func destination(of event: ArchivedEvent) -> String {
            guard let target else { return "exchange \(Topology.exchangeName) (every subscriber)" }
            return "queue " + EventRegistry.queueName(for: EventType(rawValue: event.type), consumer: target)
        }

        var summary: String {
            var counts: [String: Int] = [:]
            for event in events { counts["\(event.type) → \(destination(of: event))", default: 0] += 1 }
            let lines = counts.sorted { $0.key < $1.key }.map { "  \($0.value)  \($0.key)" }
            let sample = events.prefix(3).map { "  \($0.id)  \($0.type)  \(Timestamp.format($0.occurredAt))" }
            return (["\(events.count) events:"] + lines + (sample.isEmpty ? [] : ["sample:"] + sample))
                .joined(separator: "\n")
        }
    }

    /// Publishes the plan with confirms, paced by `rate`, and records it. Returns the replay id.
    static func replay(
        _ plan: Plan, asNew: Bool, rate: Double?, on broker: AMQPConnection, audit: DatabasePool, selection: String
    ) async throws -> String {
        let replayID = UUID().uuidString
        let codec = EnvelopeCodec()
        let started = ContinuousClock.now
        for (index, event) in plan.events.enumerated() {
            if let rate {
                let due = started + .milliseconds(Int64(Double(index) / rate * 1000))
                if due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
            }
            var body = Array(event.body.utf8)
            if asNew, var object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
                object["id"] = UUID().uuidString
                body = Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            }
            let header = try codec.decodeHeader(body)
            var message = OutgoingMessage.event(body: body, header: header, publisher: event.service)
            message.properties.headers["x-kindred-replay-id"] = .string(replayID)
            message.properties.headers["x-kindred-original-message-id"] = .string(event.id)
            if let target = plan.target {
                message.exchange = ""
                message.routingKey = EventRegistry.queueName(for: header.type, consumer: target)
                message.mandatory = true
            }
            do {
                try await broker.publish(message)
            } catch {
                throw CLIError("replay \(replayID) stopped after \(index) of \(plan.events.count) events: \(error)")
            }
        }
        let destination = plan.target.map { "queues of \($0.rawValue)" } ?? "exchange \(Topology.exchangeName)"
        let user = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        try await audit.withConnection { connection in
            try connection.execute(
                """
                INSERT INTO replays (replay_id, requested_by, selection, destination, as_new, events)
                VALUES ($1, $2, $3, $4, $5, $6)
                """, [replayID, user, selection, destination, asNew, plan.events.count])
        }
        return replayID
    }
}
