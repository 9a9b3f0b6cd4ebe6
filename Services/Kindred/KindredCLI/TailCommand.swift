import ArgumentParser
import Contracts
import Foundation
import Messaging

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Show events live as they flow, through a temporary queue that disappears when this ends.",
        discussion: """
            Examples:
              kindred tail --type UserRegistered --type ProfileCreated
              kindred tail --type ProfileUpdated --count 1 --json
            """)

    @Option(name: .customLong("type"), help: "An event type to show (repeat for several).") var types: [String]
    @Option(help: "Stop after this many events.") var count: Int?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await execute {
            try await CLIEnvironment.withBroker { broker in
                try await Self.tail(types: types, count: count, json: output.json, on: broker) { line in writeLine(line)
                }
                return ""
            }
        }
    }

    /// Declares an exclusive, auto-deleted queue bound to `types` and hands each event to
    /// `emit` as a line (the document with `json`), until `count` events or cancellation.
    static func tail(
        types: [String], count: Int?, json: Bool = false, on broker: AMQPConnection,
        ready: @Sendable () -> Void = {}, emit: (String) -> Void
    ) async throws {
        guard !types.isEmpty else { throw CLIError("name at least one --type", exitCode: 2) }
        for type in types { _ = try descriptor(named: type) }
        let queue = "Tail.cli.\(UUID().uuidString.prefix(8))"
        try await broker.declare(
            Topology(queues: [
                QueueDeclaration(
                    name: queue, durable: false, exclusive: true, autoDelete: true,
                    bindings: types.map { Binding(exchange: Topology.exchangeName, routingKey: $0) })
            ]))
        let deliveries = try await broker.consume(queue: queue, prefetch: 100)
        ready()
        var seen = 0
        for try await delivery in deliveries {
            broker.acknowledge(delivery)
            let text = String(decoding: delivery.body, as: UTF8.self)
            if json {
                emit(text)
            } else if let header = try? EnvelopeCodec().decodeHeader(delivery.body) {
                emit(
                    "\(Timestamp.format(header.time))  \(header.type)  \(header.id.uuidString)  subject=\(header.subject ?? "-")  correlation=\(header.correlationid)"
                )
            } else {
                emit("(not an envelope) \(text.prefix(200))")
            }
            seen += 1
            if let count, seen >= count { return }
        }
    }
}
