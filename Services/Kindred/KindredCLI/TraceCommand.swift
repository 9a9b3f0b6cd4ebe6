import ArgumentParser
import Contracts
import Foundation
import Messaging
import Persistence

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "The story of one request across services: who published what, and which queues consumed it.",
        discussion: """
            Reads every service's outbox (what it published) and inbox (what it consumed, after
            how many attempts, from which replay), and looks into the .dead queues for the
            correlation id's messages that failed for good.

            Examples:
              kindred trace 41DB0870-6E18-4A84-B833-F1CF74052C5E     # the X-Request-ID of a response
              kindred trace 41DB0870-6E18-4A84-B833-F1CF74052C5E --json
            """)

    @Argument(help: "The correlation id (the X-Request-ID the gateway answered with).") var correlation: String
    @OptionGroup var output: OutputOptions

    struct Step: Sendable {
        var time: Date
        var service: ServiceName
        var what: String
        var type: String
        var eventID: String
    }

    func run() async throws {
        try await execute {
            let environment = try CLIEnvironment.load()
            // The trace itself is in the databases; without a broker it only lacks dead letters.
            let broker: AMQPConnection?
            do {
                broker = try await environment.broker()
            } catch let error as CLIError {
                FileHandle.standardError.write(Data("kindred: \(error.description); dead letters not shown\n".utf8))
                broker = nil
            }
            defer { broker?.close() }
            let steps = try await Self.steps(correlation: correlation, environment: environment, broker: broker)
            guard !steps.isEmpty else { throw CLIError("no event carries correlation id \(correlation)") }
            if output.json {
                return JSONLines.render(
                    steps.map {
                        [
                            "time": Timestamp.format($0.time), "service": $0.service.rawValue, "what": $0.what,
                            "type": $0.type, "eventId": $0.eventID,
                        ]
                    })
            }
            return Table.render(
                ["TIME", "SERVICE", "WHAT", "TYPE", "EVENT"],
                steps.map { [Timestamp.format($0.time), $0.service.rawValue, $0.what, $0.type, $0.eventID] })
        }
    }

    /// Every service's outbox rows of the correlation id, every inbox row of those events,
    /// and (with a broker) their dead letters, in time order.
    static func steps(correlation: String, environment: CLIEnvironment, broker: AMQPConnection? = nil) async throws
        -> [Step]
    {
        var published: [ArchivedEvent] = []
        var filter = try EventFilter.parse([])
        filter.correlation = correlation
        let services = ServiceName.allCases.filter { environment.databaseURLs[$0] != nil }
        let pools = try Dictionary(uniqueKeysWithValues: services.map { ($0, try environment.database($0)) })
        defer { for pool in pools.values { pool.close() } }
        for (service, pool) in pools {
            published += try await filter.events(of: service, from: pool, limit: 10_000)
        }
        var steps = published.map { event in
            Step(
                time: event.occurredAt, service: event.service,
                what: "published" + (event.publishedAt == nil ? " (not sent yet)" : ""), type: event.type,
                eventID: event.id)
        }
        let types = Dictionary(published.map { ($0.id, $0.type) }, uniquingKeysWith: { first, _ in first })
        // A handler takes its time before its transaction writes the inbox row, so an event it
        // published can carry an earlier time than the consumption that caused it: the
        // consumption is placed no later than what it caused.
        var causedAt: [String: Date] = [:]
        let codec = EnvelopeCodec()
        for event in published {
            guard let cause = (try? codec.decodeHeader(Array(event.body.utf8)))?.causationid?.uppercased() else {
                continue
            }
            let key = "\(event.service.rawValue) \(cause)"
            causedAt[key] = min(causedAt[key] ?? event.occurredAt, event.occurredAt)
        }
        let ids = Array(types.keys)
        guard !ids.isEmpty else { return [] }
        for (service, pool) in pools {
            let consumed = try await pool.withConnection { connection in
                try connection.execute(
                    """
                    SELECT queue, message_id, processed_at,
                      -- Read through jsonb so that a database its service has not migrated yet
                      -- (no attempts or replay_id columns) still answers.
                      (to_jsonb(inbox) ->> 'attempts')::int AS attempts, to_jsonb(inbox) ->> 'replay_id' AS replay_id
                    FROM inbox WHERE upper(message_id) = ANY($1::text[])
                    """, [ids]
                ).rows
            }
            for row in consumed {
                guard let queue = row.string("queue"), let id = row.string("message_id")?.uppercased(),
                    let time = row.date("processed_at")
                else { continue }
                let attempts = row.int("attempts") ?? 1
                let retries = attempts > 1 ? " on attempt \(attempts) (after \(attempts - 1) retries)" : ""
                let replay = row.string("replay_id").map { " from replay \($0)" } ?? ""
                steps.append(
                    Step(
                        time: min(time, causedAt["\(service.rawValue) \(id)"] ?? time), service: service,
                        what: "consumed from \(queue)\(retries)\(replay)",
                        type: types[id] ?? "?", eventID: id))
            }
        }
        if let broker {
            var selection = try DeadSelection.parse([])
            selection.correlation = correlation
            for letter in try await DeadLetters.peek(broker: broker, selection: selection, max: 1000) {
                let consumer = ServiceName.allCases.first { letter.originalQueue.hasSuffix(".\($0.rawValue)") }
                steps.append(
                    Step(
                        time: letter.lastFailedAt.flatMap(Timestamp.parse) ?? Date(), service: consumer ?? .gateway,
                        what:
                            "dead-lettered from \(letter.originalQueue) after \(counted(letter.attempts, "attempt")): \(letter.reason)",
                        type: letter.type, eventID: letter.messageID))
            }
        }
        // At the same instant, a consumption comes before what it caused.
        return steps.sorted {
            ($0.time, $0.what.hasPrefix("consumed") ? 0 : 1) < ($1.time, $1.what.hasPrefix("consumed") ? 0 : 1)
        }
    }
}
