import ArgumentParser
import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import KindredCLI

@Suite("kindred CLI", .timeLimit(.minutes(2)))
struct KindredCLITests {
    func environment() throws -> CLIEnvironment {
        try CLIEnvironment.load(currentDirectory: "/nonexistent")
    }

    @Test("contracts lists every registered type, as a table and as JSON lines, with example documents")
    func contracts() throws {
        let table = ContractsCommand.List.render(json: false)
        for descriptor in EventRegistry.all { #expect(table.contains(descriptor.type.rawValue)) }
        #expect(table.contains("UserRegistered.profile"))
        let lines = ContractsCommand.List.render(json: true).split(separator: "\n")
        #expect(lines.count == EventRegistry.all.count)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["type"] is String && first["producer"] is String)
        for descriptor in EventRegistry.all {
            #expect(throws: Never.self) { try EnvelopeCodec().decodeHeader(descriptor.exampleDocument) }
        }
        #expect(throws: CLIError.self) { try descriptor(named: "NoSuchEvent") }
    }

    @Test("no configuration at all is a usage error naming the variable")
    func unconfigured() {
        do {
            _ = try CLIEnvironment.load(environment: [:], currentDirectory: "/nonexistent")
            Issue.record("loaded without any configuration")
        } catch let error as CLIError {
            #expect(error.exitCode == 2)
            #expect(error.description.contains("KINDRED_ADMIN_AMQP_URL"))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("topology shows every service queue with its depth and consumers")
    func topology() async throws {
        let broker = try await environment().broker()
        defer { broker.close() }
        let table = try await TopologyCommand.render(broker: broker, declare: true, json: false)
        #expect(table.contains("UserRegistered.profile"))
        #expect(table.contains("UserSuspended.gateway"))
        #expect(!table.contains("missing"))
        let lines = try await TopologyCommand.render(broker: broker, declare: false, json: true)
        #expect(
            lines.split(separator: "\n").count
                == ServiceName.allCases.map { EventRegistry.consumed(by: $0).count }.reduce(0, +))
    }

    @Test("publish checks the data against the contract; tail sees what was published")
    func publishAndTail() async throws {
        let broker = try await environment().broker()
        defer { broker.close() }
        await #expect(throws: CLIError.self) {
            _ = try await PublishCommand.publish(
                type: "UserSuspended", data: Array(#"{"userId":"not-a-uuid"}"#.utf8), subject: nil, correlation: nil,
                on: broker)
        }
        let lines = Mutex<[String]>([])
        let started = Mutex(false)
        let tail = Task {
            try await TailCommand.tail(
                types: ["AccountLinked"], count: 1, json: true, on: broker, ready: { started.withLock { $0 = true } }
            ) { line in lines.withLock { $0.append(line) } }
        }
        #expect(try await eventually { started.withLock { $0 } })
        let correlation = TestEnvironment.uniqueName("cli-")
        let data = #"{"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF","email":"ada@example.com","sequence":2}"#
        let id = try await PublishCommand.publish(
            type: "AccountLinked", data: Array(data.utf8), subject: "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            correlation: correlation, on: broker)
        try await tail.value
        let seen = try #require(lines.withLock { $0.first })
        let header = try EnvelopeCodec().decodeHeader(Array(seen.utf8))
        #expect(header.id.uuidString == id)
        #expect(header.correlationid == correlation)
        #expect(header.source == "/kindred/gateway")
    }

    @Test("events filters a service's archive, and trace follows a correlation id across services")
    func eventsAndTrace() async throws {
        let environment = try environment()
        let matching = try environment.database(.matching)
        let profile = try environment.database(.profile)
        defer {
            matching.close()
            profile.close()
        }
        let migrator = Migrator(pool: matching, logger: TestEnvironment.logger("cli"))
        try await migrator.migrate(component: SharedMigrations.component, SharedMigrations.all)
        let correlation = TestEnvironment.uniqueName("trace-")
        let userID = UUID()
        let envelope = Envelope(
            source: .matching, time: Date(), subject: userID.uuidString,
            data: ProfileCreated(userId: userID, sequence: 1), correlationID: correlation)
        try await matching.transaction { try Outbox.append(envelope, on: $0) }
        try await profile.transaction { connection in
            _ = try Inbox.claim(queue: "ProfileCreated.profile", messageID: envelope.id.uuidString, on: connection)
        }

        var filter = try EventFilter.parse([])
        filter.correlation = correlation
        let found = try await filter.events(of: .matching, from: matching, limit: 10)
        #expect(found.map(\.id) == [envelope.id.uuidString])
        filter.type = "UserRegistered"
        #expect(try await filter.events(of: .matching, from: matching, limit: 10).isEmpty)
        var badTime = try EventFilter.parse([])
        badTime.since = "yesterday"
        #expect(throws: CLIError.self) { try badTime.validated() }

        let steps = try await TraceCommand.steps(correlation: correlation, environment: environment)
        #expect(steps.map(\.what) == ["published (not sent yet)", "consumed from ProfileCreated.profile"])
        #expect(steps.map(\.service) == [.matching, .profile])
        try await matching.withConnection { try $0.execute("DELETE FROM outbox WHERE event_id = $1", [envelope.id]) }
    }

    @Test("dead list groups dead letters by queue and reason and leaves them in place")
    func deadLetters() async throws {
        let broker = try await environment().broker()
        defer { broker.close() }
        // A dead queue of the test's own, so no other test or service can touch it.
        let queue = TestEnvironment.uniqueName("Cli.tests.") + ".dead"
        try await broker.declare(
            Topology(queues: [QueueDeclaration(name: queue, durable: false, arguments: ["x-expires": .int(60_000)])]))
        for reason in ["handler-failed", "malformed", "malformed"] {
            try await broker.publish(
                OutgoingMessage(
                    exchange: "", routingKey: queue, body: Array("x".utf8),
                    properties: MessageProperties(
                        messageID: UUID().uuidString, headers: [DeadLetterHeader.reason: .string(reason)]),
                    mandatory: true))
        }
        let census = try await DeadCommand.List.census(broker: broker, queues: [queue])
        #expect(census[queue] == ["handler-failed": 1, "malformed": 2])
        #expect(try await eventually { try await broker.status(ofQueue: queue)?.messages == 3 })
        #expect(DeadCommand.List.deadQueues.contains("UserRegistered.profile.dead"))
    }
}

@Suite("kindred replay", .timeLimit(.minutes(2)))
struct ReplayTests {
    @Test("dry run plans without publishing; execute republishes with provenance, paced, and is audited")
    func replay() async throws {
        let environment = try CLIEnvironment.load(currentDirectory: "/nonexistent")
        let gateway = try environment.database(.gateway)
        defer { gateway.close() }
        try await Migrator(pool: gateway, logger: TestEnvironment.logger("cli"))
            .migrate(component: SharedMigrations.component, SharedMigrations.all)
        let correlation = TestEnvironment.uniqueName("replay-")
        var originals: [String] = []
        for _ in 0..<5 {
            let userID = UUID()
            let envelope = Envelope(
                source: .gateway, time: Date(), subject: userID.uuidString,
                data: UserRegistered(userId: userID, email: "replay@example.com", registeredAt: Date()),
                correlationID: correlation)
            try await gateway.transaction { try Outbox.append(envelope, on: $0) }
            originals.append(envelope.id.uuidString)
        }
        defer {
            Task {
                try? await gateway.withConnection {
                    try $0.execute("DELETE FROM outbox WHERE correlation_id = $1", [correlation])
                }
            }
        }
        var filter = try EventFilter.parse([])
        filter.correlation = correlation
        let events = try await filter.events(of: .gateway, from: gateway, limit: 100)
        #expect(events.map(\.id) == originals)

        let toProfile = try ReplayCommand.Plan(events: events, target: .profile)
        #expect(toProfile.summary.contains("5  UserRegistered → queue UserRegistered.profile"))
        #expect(throws: CLIError.self) { try ReplayCommand.Plan(events: events, target: .matching) }

        // Watch the exchange the way every subscriber would.
        let broker = try await environment.broker()
        defer { broker.close() }
        let watch = TestEnvironment.uniqueName("UserRegistered.replaytests.")
        try await broker.declare(
            Topology(queues: [
                QueueDeclaration(
                    name: watch, durable: false, exclusive: true, autoDelete: true,
                    bindings: [Binding(exchange: Topology.exchangeName, routingKey: "UserRegistered")])
            ]))
        let deliveries = try await broker.consume(queue: watch, prefetch: 100)
        let everyone = try ReplayCommand.Plan(events: events, target: nil)
        let begun = ContinuousClock.now
        let replayID = try await ReplayCommand.replay(
            everyone, asNew: false, rate: 10, on: broker, audit: gateway, selection: "--correlation \(correlation)")
        #expect(ContinuousClock.now - begun >= .milliseconds(350), "--rate 10 spaces 5 events over 0.4 s")
        _ = try await ReplayCommand.replay(
            everyone, asNew: true, rate: nil, on: broker, audit: gateway, selection: "as new")
        var received: [Delivery] = []
        for try await delivery in deliveries {
            broker.acknowledge(delivery)
            // Other tests may register users meanwhile: keep only this replay's messages.
            if delivery.properties.headers["x-kindred-original-message-id"]?.stringValue.map(originals.contains) == true
            {
                received.append(delivery)
            }
            if received.count == 10 { break }
        }
        let ids = try received.map { try EnvelopeCodec().decodeHeader($0.body).id.uuidString }
        #expect(Array(ids.prefix(5)) == originals, "a replay keeps the original ids, in order")
        #expect(Set(ids.suffix(5)).isDisjoint(with: originals), "--as-new mints new ids")
        #expect(received.prefix(5).allSatisfy { $0.properties.headers["x-kindred-replay-id"] == .string(replayID) })
        let audited = try await gateway.withConnection { connection in
            try connection.execute("SELECT events, destination FROM replays WHERE replay_id = $1", [replayID]).first
        }
        #expect(audited?.int("events") == 5)
        #expect(audited?.string("destination") == "exchange kindred")
    }
}
