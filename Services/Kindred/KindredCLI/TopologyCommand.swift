import ArgumentParser
import Contracts
import Foundation
import Messaging

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Every service queue with its depth, consumers, and what waits in its retry and .dead queues.",
        discussion: """
            Examples:
              kindred topology
              kindred topology --declare      # create what is missing, as the services would
              kindred topology --json
            """)

    @Flag(help: "Declare the exchange and every service's queues first.") var declare = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await execute {
            let environment = try CLIEnvironment.load()
            let broker = try await environment.broker()
            defer { broker.close() }
            return try await Self.render(
                broker: broker, declare: declare, json: output.json, queueType: environment.queueType,
                retryPolicy: environment.retryPolicy)
        }
    }

    struct Line {
        var queue: String
        var messages: Int?
        var consumers: Int?
        var retrying: Int
        var dead: Int?
    }

    static func lines(broker: AMQPConnection, declare: Bool, queueType: QueueType, retryPolicy: RetryPolicy)
        async throws -> [Line]
    {
        var lines: [Line] = []
        for service in ServiceName.allCases {
            let topology = Topology.forService(service, queueType: queueType, retryPolicy: retryPolicy)
            if declare { try await broker.declare(topology) }
            for descriptor in EventRegistry.consumed(by: service) {
                let queue = EventRegistry.queueName(for: descriptor.type, consumer: service)
                let main = try await broker.status(ofQueue: queue)
                var retrying = 0
                for retry in topology.queues where retry.name.hasPrefix("\(queue).retry.") {
                    retrying += try await broker.status(ofQueue: retry.name)?.messages ?? 0
                }
                let dead = try await broker.status(ofQueue: EventRegistry.deadQueueName(for: queue))
                lines.append(
                    Line(
                        queue: queue, messages: main?.messages, consumers: main?.consumers, retrying: retrying,
                        dead: dead?.messages))
            }
        }
        return lines
    }

    static func render(
        broker: AMQPConnection, declare: Bool, json: Bool, queueType: QueueType = .classic,
        retryPolicy: RetryPolicy = .standard
    ) async throws -> String {
        let found = try await lines(broker: broker, declare: declare, queueType: queueType, retryPolicy: retryPolicy)
        if json {
            return JSONLines.render(
                found.map { line in
                    [
                        "queue": line.queue, "exists": line.messages != nil, "messages": line.messages ?? 0,
                        "consumers": line.consumers ?? 0, "retrying": line.retrying, "dead": line.dead ?? 0,
                    ]
                })
        }
        let header = "exchange \(Topology.exchangeName) (topic), routing key = event type\n"
        return header
            + Table.render(
                ["QUEUE", "MESSAGES", "CONSUMERS", "RETRYING", "DEAD"],
                found.map { line in
                    guard let messages = line.messages else { return [line.queue, "missing", "-", "-", "-"] }
                    return [
                        line.queue, "\(messages)", "\(line.consumers ?? 0)", "\(line.retrying)", "\(line.dead ?? 0)",
                    ]
                })
    }
}
