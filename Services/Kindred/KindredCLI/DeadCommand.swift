import ArgumentParser
import Contracts
import Foundation
import Messaging

struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "What ended in the .dead queues, grouped by queue and failure reason.",
        discussion: """
            Examples:
              kindred dead list
              kindred dead list --json
            Messages are only looked at: they stay in their queues.
            """,
        subcommands: [List.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Count dead letters.")
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await execute {
                try await CLIEnvironment.withBroker { try await Self.render(broker: $0, json: output.json) }
            }
        }

        /// (dead queue, reason) → count, looking at each message without taking it.
        /// Every service's `.dead` queue, from the registry.
        static var deadQueues: [String] {
            ServiceName.allCases.flatMap { service in
                EventRegistry.consumed(by: service).map {
                    EventRegistry.deadQueueName(for: EventRegistry.queueName(for: $0.type, consumer: service))
                }
            }
        }

        static func census(broker: AMQPConnection, queues: [String] = deadQueues) async throws
            -> [String: [String: Int]]
        {
            var census: [String: [String: Int]] = [:]
            for dead in queues {
                guard let depth = try await broker.status(ofQueue: dead)?.messages, depth > 0 else { continue }
                // Looked at through a connection of its own that never acknowledges: closing it
                // hands every message back to the queue as it was (none comes round twice, and none
                // stays held by a consumer nobody reads any more).
                let wanted = min(depth, 1000)
                let peek = AMQPConnection(
                    endpoint: broker.endpoint, name: "kindred-dead-peek", logger: CLIEnvironment.logger)
                defer { peek.close() }
                let deliveries = try await peek.consume(queue: dead, prefetch: UInt16(wanted))
                var reasons: [String: Int] = [:]
                var seen = 0
                for try await delivery in deliveries {
                    let reason = delivery.properties.headers[DeadLetterHeader.reason]?.stringValue ?? "unknown"
                    reasons[reason, default: 0] += 1
                    seen += 1
                    if seen >= wanted { break }
                }
                census[dead] = reasons
            }
            return census
        }

        static func render(broker: AMQPConnection, json: Bool) async throws -> String {
            let census = try await census(broker: broker)
            let rows = census.keys.sorted().flatMap { queue in
                (census[queue] ?? [:]).sorted { $0.key < $1.key }.map { (queue, $0.key, $0.value) }
            }
            if json {
                return JSONLines.render(rows.map { ["queue": $0.0, "reason": $0.1, "count": $0.2] })
            }
            if rows.isEmpty { return "no dead letters" }
            return Table.render(["DEAD QUEUE", "REASON", "COUNT"], rows.map { [$0.0, $0.1, "\($0.2)"] })
        }
    }
}
