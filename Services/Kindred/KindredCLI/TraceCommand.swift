import ArgumentParser
import Contracts
import Foundation
import Persistence

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "The story of one request across services: who published what, and which queues consumed it.",
        discussion: """
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
            let steps = try await Self.steps(correlation: correlation, environment: environment)
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

    /// Every service's outbox rows of the correlation id, and every inbox row of those
    /// events, in time order.
    static func steps(correlation: String, environment: CLIEnvironment) async throws -> [Step] {
        var published: [ArchivedEvent] = []
        var filter = try EventFilter.parse([])
        filter.correlation = correlation
        let services = ServiceName.allCases.filter { environment.databaseURLs[$0] != nil }
        for service in services {
            let pool = try environment.database(service)
            defer { pool.close() }
            published += try await filter.events(of: service, from: pool, limit: 10_000)
        }
        var steps = published.map { event in
            Step(
                time: event.occurredAt, service: event.service,
                what: "published" + (event.publishedAt == nil ? " (not sent yet)" : ""), type: event.type,
                eventID: event.id)
        }
        let types = Dictionary(published.map { ($0.id, $0.type) }, uniquingKeysWith: { first, _ in first })
        let ids = Array(types.keys)
        guard !ids.isEmpty else { return [] }
        for service in services {
            let pool = try environment.database(service)
            defer { pool.close() }
            let consumed = try await pool.withConnection { connection in
                try connection.execute(
                    "SELECT queue, message_id, processed_at FROM inbox WHERE upper(message_id) = ANY($1::text[])", [ids]
                ).rows
            }
            for row in consumed {
                guard let queue = row.string("queue"), let id = row.string("message_id")?.uppercased(),
                    let time = row.date("processed_at")
                else { continue }
                steps.append(
                    Step(
                        time: time, service: service, what: "consumed from \(queue)", type: types[id] ?? "?",
                        eventID: id))
            }
        }
        return steps.sorted { $0.time < $1.time }
    }
}
