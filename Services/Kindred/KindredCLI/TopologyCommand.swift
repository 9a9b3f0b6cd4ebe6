import ArgumentParser
import Contracts
import Foundation
import Messaging
import Persistence

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract:
            "Every service queue with its depth, consumers, and what waits in its retry and .dead queues; each service's outbox.",
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
            let queues = try await Self.render(
                broker: broker, declare: declare, json: output.json, queueType: environment.queueType,
                retryPolicy: environment.retryPolicy)
            return queues + "\n" + (await Self.renderOutboxes(environment: environment, json: output.json))
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

    /// What waits in one service's outbox.
    struct OutboxLine {
        var service: ServiceName
        /// Nil when the database could not be read (the reason is in `problem`).
        var unsent: Int64?
        /// Returned by the broker (no queue bound yet), waiting for their next try.
        var waiting: Int64 = 0
        /// Rows that can never be published (too large, unusable columns), kept with a reason.
        var setAside: Int64 = 0
        var problem: String?
    }

    static func outboxes(environment: CLIEnvironment) async -> [OutboxLine] {
        var lines: [OutboxLine] = []
        for service in ServiceName.allCases {
            do {
                let pool = try environment.database(service)
                defer { pool.close() }
                let row = try await pool.withConnection { connection in
                    try connection.execute(
                        """
                        SELECT count(*) FILTER (WHERE set_aside_at IS NULL) AS unsent,
                               count(*) FILTER (WHERE set_aside_at IS NULL AND next_attempt_at > now()) AS waiting,
                               count(*) FILTER (WHERE set_aside_at IS NOT NULL) AS set_aside
                        FROM outbox WHERE published_at IS NULL
                        """
                    ).first
                }
                lines.append(
                    OutboxLine(
                        service: service, unsent: row?.int64("unsent") ?? 0, waiting: row?.int64("waiting") ?? 0,
                        setAside: row?.int64("set_aside") ?? 0))
            } catch {
                lines.append(OutboxLine(service: service, unsent: nil, problem: "\(error)"))
            }
        }
        return lines
    }

    static func renderOutboxes(environment: CLIEnvironment, json: Bool) async -> String {
        let found = await outboxes(environment: environment)
        if json {
            return JSONLines.render(
                found.map { line in
                    [
                        "outbox": line.service.rawValue, "readable": line.unsent != nil, "unsent": line.unsent ?? 0,
                        "waiting": line.waiting, "setAside": line.setAside,
                    ]
                })
        }
        return "outboxes (rows not published yet)\n"
            + Table.render(
                ["SERVICE", "UNSENT", "WAITING (RETURNED)", "SET ASIDE"],
                found.map { line in
                    guard let unsent = line.unsent else {
                        return [line.service.rawValue, "unreadable", "-", "-"]
                    }
                    return [line.service.rawValue, "\(unsent)", "\(line.waiting)", "\(line.setAside)"]
                })
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
