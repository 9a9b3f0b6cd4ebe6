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
            Selection is the same as `kindred events` (a service's outbox archive and filters), or
            --file with the JSON lines `kindred events --json` wrote (the same filters then narrow
            the file's events).

            How replay and the consumers' inbox interact: a replayed event keeps its original id,
            so a consumer that already processed it acknowledges it without running its handler
            again — replay is safe, and reaches only consumers that missed the event. --as-new mints
            new ids on purpose, so every consumer processes the events again.

            --to <service> delivers only to that service's queue for each type (through the default
            exchange), so other consumers are not disturbed; without it every subscriber gets them.
            Replayed messages carry x-kindred-replay-id and x-kindred-original-message-id, and
            every executed replay is recorded in the `replays` table of the service that produced
            the events (who, when, selection, destination, count).

            Examples:
              kindred replay --service gateway --type UserRegistered --since 2026-11-22T00:00:00Z
              kindred replay --service gateway --type UserRegistered --to profile --rate 200 --execute
              kindred replay --service profile --correlation <X-Request-ID> --as-new --max 10 --execute
              kindred events --service gateway --subject <user id> --json > events.jsonl
              kindred replay --file events.jsonl --to profile --execute
            """)

    @Option(help: "The service whose outbox archive to replay from.") var service: String?
    @Option(help: "A JSON lines file of events (as `kindred events --json` writes) instead of an archive.")
    var file: String?
    @OptionGroup var filter: EventFilter
    @Option(help: "Deliver only to this service's queues.") var to: String?
    @Option(help: "At most this many events per second.") var rate: Double?
    @Option(help: "At most this many events.") var max = 1000
    @Flag(help: "Mint new event ids so that consumers process the events again.") var asNew = false
    @Flag(name: .customLong("execute"), help: "Do it; without this flag replay only shows what it would do.")
    var executeForReal = false

    func run() async throws {
        try await execute {
            let target = try to.map { try serviceName($0, option: "--to") }
            let rate = try checked(rate: rate)
            if max <= 0 { throw CLIError("--max must be above 0", exitCode: 2) }
            let environment = try CLIEnvironment.load()
            // The pools of the producing services, which also record the replay.
            var pools: [ServiceName: DatabasePool] = [:]
            defer { for pool in pools.values { pool.close() } }
            let events: [ArchivedEvent]
            switch (service, file) {
            case (let service?, nil):
                let source = try serviceName(service, option: "--service")
                let pool = try environment.database(source)
                pools[source] = pool
                events = try await filter.events(of: source, from: pool, limit: max)
            case (nil, let file?):
                events = try filter.select(from: try EventFile.read(file), limit: max)
            default:
                throw CLIError("name where the events come from: --service or --file (one of them)", exitCode: 2)
            }
            let plan = try Plan(events: events, target: target)
            guard executeForReal else { return plan.summary + "\n(dry run: add --execute to publish)" }
            let broker = try await environment.broker()
            defer { broker.close() }
            for producer in Set(plan.events.map(\.service)) where pools[producer] == nil {
                pools[producer] = try environment.database(producer)
            }
            let progress = ProgressBar("replaying", total: plan.events.count)
            let replayID = try await Self.replay(
                plan, asNew: asNew, rate: rate, on: broker, progress: progress, audit: pools,
                selection: CommandLine.arguments.dropFirst().joined(separator: " "))
            progress.finish()
            return plan.summary + "\nreplayed \(counted(plan.events.count, "event")) (replay \(replayID))"
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
            return (["\(counted(events.count, "event")):"] + lines + (sample.isEmpty ? [] : ["sample:"] + sample))
                .joined(separator: "\n")
        }
    }

    /// Publishes the plan in order with confirms, paced by `rate`, and records it in the
    /// `replays` table of each producing service (`audit` has their pools). Returns the replay id.
    static func replay(
        _ plan: Plan, asNew: Bool, rate: Double?, on broker: AMQPConnection, progress: ProgressBar? = nil,
        audit: [ServiceName: DatabasePool], selection: String
    ) async throws -> String {
        let replayID = UUID().uuidString
        var publisher = PacedPublisher(broker: broker, rate: rate)
        var published = 0
        var window = plan.events[...]
        while !window.isEmpty {
            let batch = window.prefix(publisher.window)
            window = window.dropFirst(batch.count)
            let messages = try batch.map { try message(for: $0, replayID: replayID, asNew: asNew, target: plan.target) }
            let outcomes = try await publisher.publishEach(messages)
            if let failed = outcomes.firstIndex(where: { if case .failure = $0 { true } else { false } }),
                case .failure(let error) = outcomes[failed]
            {
                let confirmed = published + outcomes.filter { if case .success = $0 { true } else { false } }.count
                let again =
                    asNew
                    ? "replaying again publishes the confirmed ones again, as new events"
                    : "replaying again is safe: consumers' inboxes skip what they processed"
                throw CLIError(
                    "replay \(replayID) stopped: \(confirmed) of \(plan.events.count) events confirmed (\(again)): \(error)"
                )
            }
            published += batch.count
            progress?.advance(by: batch.count)
        }
        let destination = plan.target.map { "queues of \($0.rawValue)" } ?? "exchange \(Topology.exchangeName)"
        let user = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        for (service, events) in Dictionary(grouping: plan.events, by: \.service) {
            guard let pool = audit[service] else {
                throw CLIError(
                    "replay \(replayID) published, but has no database of \(service.rawValue) to record it in")
            }
            try await pool.withConnection { connection in
                try connection.execute(
                    """
                    INSERT INTO replays (replay_id, requested_by, selection, destination, as_new, events)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    """, [replayID, user, selection, destination, asNew, events.count])
            }
        }
        return replayID
    }

    /// The message that replays one archived event.
    static func message(for event: ArchivedEvent, replayID: String, asNew: Bool, target: ServiceName?) throws
        -> OutgoingMessage
    {
        var body = Array(event.body.utf8)
        if asNew, var object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            object["id"] = UUID().uuidString
            body = Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
        let header = try EnvelopeCodec().decodeHeader(body)
        var message = OutgoingMessage.event(body: body, header: header, publisher: event.service)
        message.properties.headers[ReplayHeader.replayID] = .string(replayID)
        message.properties.headers[ReplayHeader.originalMessageID] = .string(event.id)
        if let target {
            message.exchange = ""
            message.routingKey = EventRegistry.queueName(for: header.type, consumer: target)
            message.mandatory = true
        }
        return message
    }
}

/// A JSON lines file of CloudEvents documents, as `kindred events --json` writes.
enum EventFile {
    static func read(_ path: String) throws -> [ArchivedEvent] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the events file \(path)", exitCode: 2)
        }
        return try parse(String(decoding: data, as: UTF8.self), name: path)
    }

    /// Every line must be a valid envelope of a registered type whose data fits the
    /// contract; the first that is not stops everything, naming its line.
    static func parse(_ text: String, name: String) throws -> [ArchivedEvent] {
        let codec = EnvelopeCodec()
        var events: [ArchivedEvent] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let body = Array(trimmed.utf8)
            do {
                let header = try codec.decodeHeader(body)
                guard let descriptor = EventRegistry.descriptor(for: header.type) else {
                    throw CLIError("unknown event type \(header.type.rawValue)")
                }
                guard let producer = ServiceName(source: header.source) else {
                    throw CLIError("source \(header.source) is not a Kindred service")
                }
                guard
                    let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                    let data = object["data"]
                else { throw CLIError("no data") }
                // Older versions a consumer still accepts are not described by today's Swift type.
                if header.dataversion == descriptor.dataVersion {
                    try descriptor.validateData(Array(try JSONSerialization.data(withJSONObject: data)))
                }
                events.append(
                    ArchivedEvent(
                        service: producer, id: header.id.uuidString, type: header.type.rawValue,
                        subject: header.subject, correlationID: header.correlationid, occurredAt: header.time,
                        publishedAt: nil, body: trimmed))
            } catch {
                let reason = (error as? CLIError)?.description ?? EnvelopeCodec.explain(error)
                throw CLIError("\(name) line \(index + 1) is not a Kindred event: \(reason)", exitCode: 2)
            }
        }
        return events
    }
}

/// Replay as a library call, for `kindred-bench`: what `kindred replay --service <service>
/// --type <type> --max <max> --execute` does. Returns how many events were published.
public enum ArchiveReplay {
    public static func run(
        service: ServiceName, type: String, max: Int, pool: DatabasePool, broker: AMQPConnection
    ) async throws -> Int {
        var filter = try EventFilter.parse([])
        filter.type = type
        let plan = try ReplayCommand.Plan(
            events: try await filter.events(of: service, from: pool, limit: max), target: nil)
        _ = try await ReplayCommand.replay(
            plan, asNew: false, rate: nil, on: broker, audit: [service: pool], selection: "kindred-bench")
        return plan.events.count
    }
}
