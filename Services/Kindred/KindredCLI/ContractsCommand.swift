import ArgumentParser
import Contracts
import Foundation

struct ContractsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contracts",
        abstract: "List every event type: versions, producer, consuming queues.",
        discussion: """
            Examples:
              kindred contracts
              kindred contracts --json | jq .type
              kindred contracts show UserRegistered     # an example document
            """,
        subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the event types.")
        @OptionGroup var output: OutputOptions

        func run() async throws { try await execute { Self.render(json: output.json) } }

        static func render(json: Bool) -> String {
            let rows = EventRegistry.all.sorted { $0.type.rawValue < $1.type.rawValue }.map { descriptor in
                let queues =
                    descriptor.consumers.map { EventRegistry.queueName(for: descriptor.type, consumer: $0) }
                    + descriptor.perInstanceConsumers.map { "\(descriptor.type.rawValue).\($0.rawValue).<instance>" }
                return (descriptor, queues)
            }
            if json {
                return JSONLines.render(
                    rows.map { descriptor, queues in
                        [
                            "type": descriptor.type.rawValue, "role": "\(descriptor.role)",
                            "dataversion": descriptor.dataVersion,
                            "acceptedVersions": descriptor.acceptedVersions.sorted(),
                            "producer": descriptor.producer.rawValue, "queues": queues,
                        ]
                    })
            }
            return Table.render(
                ["TYPE", "ROLE", "VERSION", "PRODUCER", "QUEUES"],
                rows.map { descriptor, queues in
                    [
                        descriptor.type.rawValue, "\(descriptor.role)", "\(descriptor.dataVersion)",
                        descriptor.producer.rawValue, queues.isEmpty ? "-" : queues.joined(separator: ", "),
                    ]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Print an example CloudEvents document of a type.")
        @Argument(help: "The event type, e.g. UserRegistered.") var type: String

        func run() async throws {
            try await execute {
                let document = try descriptor(named: type).exampleDocument
                let object = try JSONSerialization.jsonObject(with: Data(document))
                let pretty = try JSONSerialization.data(
                    withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                return String(decoding: pretty, as: UTF8.self)
            }
        }
    }
}
