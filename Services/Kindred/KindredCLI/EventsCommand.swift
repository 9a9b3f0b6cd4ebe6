import ArgumentParser
import Contracts
import Foundation
import Persistence

/// One archived event from a service's outbox.
struct ArchivedEvent: Sendable {
    var service: ServiceName
    var id: String
    var type: String
    var subject: String?
    var correlationID: String
    var occurredAt: Date
    var publishedAt: Date?
    var body: String
}

/// Filters shared by the commands that select archived events.
struct EventFilter: ParsableArguments {
    @Option(help: "Only this event type.") var type: String?
    @Option(help: "Only events at or after this RFC 3339 time.") var since: String?
    @Option(help: "Only events before this RFC 3339 time.") var until: String?
    @Option(help: "Only events about this subject (usually a user id).") var subject: String?
    @Option(help: "Only events of this correlation id (one client request).") var correlation: String?
    @Option(help: "Only the event with this id.") var id: String?

    func validated() throws -> (since: Date?, until: Date?) {
        if let type { _ = try descriptor(named: type) }
        let since = try since.map { try Self.time($0, option: "--since") }
        let until = try until.map { try Self.time($0, option: "--until") }
        if let id, UUID(uuidString: id) == nil { throw CLIError("--id must be a UUID, not '\(id)'", exitCode: 2) }
        return (since, until)
    }

    static func time(_ text: String, option: String) throws -> Date {
        guard let date = Timestamp.parse(text) else {
            throw CLIError("\(option) must be an RFC 3339 time like 2026-11-22T10:00:00Z, not '\(text)'", exitCode: 2)
        }
        return date
    }

    /// The events of a file that pass the filters, in the file's order.
    func select(from events: [ArchivedEvent], limit: Int) throws -> [ArchivedEvent] {
        let (since, until) = try validated()
        let id = id.flatMap(UUID.init(uuidString:))?.uuidString
        return Array(
            events.lazy.filter { event in
                (type == nil || event.type == type) && (since.map { event.occurredAt >= $0 } ?? true)
                    && (until.map { event.occurredAt < $0 } ?? true)
                    && (subject == nil || event.subject == subject)
                    && (correlation == nil || event.correlationID == correlation) && (id == nil || event.id == id)
            }.prefix(limit))
    }

    /// Reads a service's outbox, oldest first.
    func events(of service: ServiceName, from pool: DatabasePool, limit: Int) async throws -> [ArchivedEvent] {
        let (since, until) = try validated()
        let parameters: [any SQLParameter] = [
            type, since, until, subject, correlation, id.flatMap(UUID.init(uuidString:)), limit,
        ]
        do {
            return try await pool.withConnection { connection in
                try connection.execute(
                    """
                    SELECT event_id, event_type, subject, correlation_id, occurred_at, published_at, body FROM outbox
                    WHERE ($1::text IS NULL OR event_type = $1) AND ($2::timestamptz IS NULL OR occurred_at >= $2)
                      AND ($3::timestamptz IS NULL OR occurred_at < $3) AND ($4::text IS NULL OR subject = $4)
                      AND ($5::text IS NULL OR correlation_id = $5) AND ($6::uuid IS NULL OR event_id = $6)
                    ORDER BY position LIMIT $7
                    """, parameters
                ).rows.compactMap { row in
                    guard let id = row.uuid("event_id"), let type = row.string("event_type"),
                        let correlation = row.string("correlation_id"), let occurred = row.date("occurred_at"),
                        let body = row.string("body")
                    else { return nil }
                    return ArchivedEvent(
                        service: service, id: id.uuidString, type: type, subject: row.string("subject"),
                        correlationID: correlation, occurredAt: occurred, publishedAt: row.date("published_at"),
                        body: body)
                }
            }
        } catch let error as DatabaseError where error.kind == .connection {
            throw CLIError.unreachable("the \(service.rawValue) database", error)
        }
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List, show or export the events a service published (its outbox archive).",
        discussion: """
            Examples:
              kindred events --service profile
              kindred events --service gateway --type UserRegistered --since 2026-11-22T00:00:00Z
              kindred events --service profile --subject 6F9619FF-8B86-D011-B42D-00C04FC964FF --json > events.jsonl
              kindred events show --service gateway 61D7C8E6-36DD-44AA-A4F5-9872CC0D5F9F
            With --json each line is the whole CloudEvents document, as published.
            """,
        subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    /// The `--service` option, checked.
    struct Source: ParsableArguments {
        @Option(
            help: "The service whose outbox to read (\(ServiceName.allCases.map(\.rawValue).joined(separator: ", "))).")
        var service: String

        func pool() throws -> (ServiceName, DatabasePool) {
            let name = try serviceName(service, option: "--service")
            return (name, try CLIEnvironment.load().database(name))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List or export (--json) archived events, oldest first.")
        @OptionGroup var source: Source
        @OptionGroup var filter: EventFilter
        @Option(help: "At most this many events.") var limit = 100
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await execute {
                let (service, pool) = try source.pool()
                defer { pool.close() }
                let events = try await filter.events(of: service, from: pool, limit: limit)
                if output.json { return events.map(\.body).joined(separator: "\n") }
                return Table.render(
                    ["TIME", "TYPE", "ID", "SUBJECT", "CORRELATION", "PUBLISHED"],
                    events.map { event in
                        [
                            Timestamp.format(event.occurredAt), event.type, event.id, event.subject ?? "-",
                            event.correlationID, event.publishedAt.map(Timestamp.format) ?? "not yet",
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Print one archived event's whole document, and when it was sent.")
        @OptionGroup var source: Source
        @Argument(help: "The event id.") var id: String

        func run() async throws {
            try await execute {
                let (service, pool) = try source.pool()
                defer { pool.close() }
                var filter = try EventFilter.parse([])
                filter.id = id
                guard let event = try await filter.events(of: service, from: pool, limit: 1).first else {
                    throw CLIError("\(service.rawValue) published no event \(id) (or it is older than the archive)")
                }
                return try Self.render(event)
            }
        }

        static func render(_ event: ArchivedEvent) throws -> String {
            return try JSONLines.pretty(Array(event.body.utf8)) + "\n"
                + "published by \(event.service.rawValue): \(event.publishedAt.map(Timestamp.format) ?? "not yet")"
        }
    }
}
