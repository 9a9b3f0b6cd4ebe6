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
        // `trace` reads every service's archive: each needs the shared tables, whichever
        // tests ran before.
        for service in ServiceName.allCases {
            let pool = try environment.database(service)
            defer { pool.close() }
            try await Migrator(pool: pool, logger: TestEnvironment.logger("cli"))
                .migrate(component: SharedMigrations.component, SharedMigrations.all)
        }
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
        let shown = try EventsCommand.Show.render(try #require(found.first))
        #expect(shown.contains("\"id\" : \"\(envelope.id.uuidString)\""))
        #expect(shown.hasSuffix("published by matching: not yet"))
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

    @Test("dead list, show, replay and purge work on a selection; dry runs and looks change nothing")
    func deadLetters() async throws {
        let broker = try await environment().broker()
        defer { broker.close() }
        // Queues of the test's own, so no other test or service can touch them.
        let original = TestEnvironment.uniqueName("Cli.tests.")
        let dead = EventRegistry.deadQueueName(for: original)
        try await broker.declare(
            Topology(
                queues: [original, dead].map {
                    QueueDeclaration(name: $0, durable: false, arguments: ["x-expires": .int(60_000)])
                }))
        var ids: [String] = []
        for reason in ["handler-failed", "malformed", "malformed", "handler-failed"] {
            let id = UUID().uuidString
            ids.append(id)
            try await broker.publish(
                OutgoingMessage(
                    exchange: "", routingKey: dead, body: Array("x".utf8),
                    properties: MessageProperties(
                        messageID: id, type: "UserRegistered",
                        headers: [
                            DeadLetterHeader.reason: .string(reason), DeadLetterHeader.attempts: .int(4),
                            DeadLetterHeader.originalQueue: .string(original),
                            DeadLetterHeader.error: .string("boom"),
                        ]),
                    mandatory: true))
        }
        var every = try DeadSelection.parse(["--queue", dead])
        #expect(
            try await DeadCommand.List.census(broker: broker, selection: every) == [
                dead: ["handler-failed": 2, "malformed": 2]
            ])
        let shown = try await DeadLetters.peek(broker: broker, selection: every, max: 3)
        #expect(shown.map(\.messageID) == Array(ids.prefix(3)), "show keeps the queue's order and --max")
        #expect(DeadCommand.Show.render(shown, json: false).contains("handler-failed"))
        let document = try #require(DeadCommand.Show.render(shown, json: true).split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])
        #expect(object["originalQueue"] as? String == original)
        #expect(try await eventually { try await broker.status(ofQueue: dead)?.messages == 4 }, "looking takes nothing")

        let failed = try DeadSelection.parse(["--queue", dead, "--reason", "handler-failed"])
        let began = ContinuousClock.now
        let (replayID, sent) = try await DeadLetters.replay(broker: broker, selection: failed, max: 10, rate: 5)
        #expect(ContinuousClock.now - began >= .milliseconds(150), "--rate 5 spaces 2 messages by 0.2 s")
        #expect(sent.map(\.messageID) == [ids[0], ids[3]])
        #expect(try await eventually { try await broker.status(ofQueue: original)?.messages == 2 })
        let back = try await broker.consume(queue: original, prefetch: 10)
        var returned: [Delivery] = []
        for try await delivery in back {
            broker.acknowledge(delivery)
            returned.append(delivery)
            if returned.count == 2 { break }
        }
        #expect(returned.map(\.properties.messageID) == [ids[0], ids[3]], "message ids are kept")
        for delivery in returned {
            #expect(delivery.properties.headers[DeadLetterHeader.reason] == nil)
            #expect(delivery.properties.headers[DeadLetterHeader.attempts] == nil, "every retry again")
            #expect(delivery.properties.headers[ReplayHeader.replayID] == .string(replayID))
        }
        every = try DeadSelection.parse(["--queue", dead])
        #expect(
            try await DeadLetters.peek(broker: broker, selection: every, max: 10).map(\.messageID) == [ids[1], ids[2]])

        let purged = try await DeadLetters.purge(
            broker: broker, selection: try DeadSelection.parse(["--queue", dead, "--id", ids[2]]))
        #expect(purged.map(\.messageID) == [ids[2]])
        #expect(try await DeadLetters.peek(broker: broker, selection: every, max: 10).map(\.messageID) == [ids[1]])
        // Taking every message (nothing requeued) leaves the queue empty once the reader is gone.
        #expect(try await DeadLetters.purge(broker: broker, selection: every).map(\.messageID) == [ids[1]])
        #expect(try await eventually { try await broker.status(ofQueue: dead)?.consumers == 0 })
        #expect(try await broker.status(ofQueue: dead)?.messages == 0)
        #expect(DeadCommand.deadQueues.contains("UserRegistered.profile.dead"))
        #expect(throws: CLIError.self) { try DeadSelection.parse(["--queue", "UserRegistered.profile"]).queues() }
        #expect(throws: CLIError.self) { try DeadSelection.parse(["--type", "NoSuchEvent"]).queues() }
    }

    @Test("dead replay leaves requests in .dead unless forced, and a forced one goes back without its deadline")
    func deadRequestsNeedForce() async throws {
        let broker = try await environment().broker()
        defer { broker.close() }
        let original = TestEnvironment.uniqueName("CliRequests.tests.")
        let dead = EventRegistry.deadQueueName(for: original)
        try await broker.declare(
            Topology(
                queues: [original, dead].map {
                    QueueDeclaration(name: $0, durable: false, arguments: ["x-expires": .int(60_000)])
                }))
        let past = RequestHeader.value(of: Date().addingTimeInterval(-600))
        for (id, type) in [("request", "ProfileUpdateRequested"), ("fact", "UserRegistered")] {
            try await broker.publish(
                OutgoingMessage(
                    exchange: "", routingKey: dead, body: Array("x".utf8),
                    properties: MessageProperties(
                        messageID: id, type: type,
                        headers: [
                            DeadLetterHeader.reason: .string("handler-failed"),
                            DeadLetterHeader.originalQueue: .string(original), RequestHeader.deadline: past,
                        ]),
                    mandatory: true))
        }
        let selection = try DeadSelection.parse(["--queue", dead])
        let (_, sent) = try await DeadLetters.replay(broker: broker, selection: selection, max: 10, rate: nil)
        #expect(sent.map(\.messageID) == ["fact"], "the request stays: its requester gave up long ago")
        #expect(
            try await DeadLetters.peek(broker: broker, selection: selection, max: 10).map(\.messageID) == ["request"])
        let (_, forced) = try await DeadLetters.replay(
            broker: broker, selection: selection, max: 10, rate: nil, includeRequests: true)
        #expect(forced.map(\.messageID) == ["request"])
        let back = try await broker.consume(queue: original, prefetch: 10)
        var returned: [String: Delivery] = [:]
        for try await delivery in back {
            broker.acknowledge(delivery)
            returned[delivery.properties.messageID ?? "?"] = delivery
            if returned.count == 2 { break }
        }
        #expect(returned["request"]?.properties.headers[RequestHeader.deadline] == nil, "applied whatever it said")
    }

    @Test("an unreachable broker is exit code 3 with a message naming it")
    func unreachableBroker() async throws {
        var environment = try environment()
        environment.amqpURL = "amqp://nobody:secret@127.0.0.1:1/kindred"
        do {
            let broker = try await environment.broker(timeout: .seconds(1))
            broker.close()
            Issue.record("connected to port 1")
        } catch let error as CLIError {
            #expect(error.exitCode == 3)
            #expect(error.description.contains("cannot reach the broker at amqp://nobody@127.0.0.1:1/kindred"))
            #expect(!error.description.contains("secret"), "the password is never printed")
        }
    }
}

@Suite("kindred contracts: JSON Schemas and their snapshots")
struct ContractSchemaTests {
    /// The repository's committed snapshots.
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(ContractCheck.defaultDirectory).path

    @Test("every registered type matches its committed snapshot exactly")
    func committedSnapshotsAreCurrent() throws {
        let check = try ContractCheck.run(directory: Self.snapshots, update: false)
        #expect(check.findings.count == EventRegistry.all.count)
        for finding in check.findings {
            #expect(
                finding.verdict == .unchanged,
                "\(finding.type): \(finding.verdict.detail) (kindred contracts check --update)")
        }
    }

    @Test("schemas are inferred from the Swift types: formats, optional fields, enums, nesting")
    func inference() throws {
        let updated = try DataSchema.infer(ProfileUpdated.self)
        guard case .object(let properties, let required) = updated,
            case .object(let profile, let profileRequired)? = properties["profile"]
        else {
            Issue.record("not an object: \(updated)")
            return
        }
        #expect(required == ["profile", "sequence"])
        #expect(properties["sequence"] == .integer)
        #expect(profile["userId"] == .string(format: "uuid"))
        #expect(profile["updatedAt"] == .string(format: "date-time"))
        #expect(profile["seeking"] == .array(of: .string(format: nil)))
        #expect(profileRequired == ["userId", "seeking", "updatedAt"])
        let failed = try DataSchema.infer(RequestFailed.self)
        guard case .object(let failure, let failureRequired) = failed else { return }
        #expect(failure["code"] == .enumeration(RequestFailed.Code.allCases.map(\.rawValue)))
        #expect(failureRequired == ["code", "detail"])
        let erased = try DataSchema.infer(UserDataErased.self)
        guard case .object(let erasure, _) = erased else { return }
        #expect(erasure["service"] == .enumeration(ServiceName.allCases.map(\.rawValue)))
        struct Tagged: Codable { var tags: [String: String] }
        #expect(throws: DataSchemaError.self, "a dictionary's fields cannot be checked") {
            try DataSchema.infer(Tagged.self)
        }
        let shown = try ContractsCommand.Show.render(type: "ProfileUpdated")
        #expect(shown.contains("\"x-kindred-dataversion\" : 1") && shown.contains("\"specversion\" : \"1.0\""))
    }

    @Test("breaking changes fail unless the version was raised; compatible ones pass")
    func breakingChanges() throws {
        let v1 = DataSchema.object(
            properties: [
                "userId": .string(format: "uuid"), "email": .string(format: nil), "note": .string(format: nil),
            ],
            required: ["userId", "email"])
        func check(_ schema: DataSchema, version: Int = 1, committed: [SchemaSnapshot]? = nil) -> ContractCheck.Verdict?
        {
            ContractCheck.compare(
                current: [SchemaSnapshot(type: "Sample", dataVersion: version, schema: schema)],
                committed: committed ?? [SchemaSnapshot(type: "Sample", dataVersion: 1, schema: v1)]
            ).first?.verdict
        }
        #expect(check(v1) == .unchanged)
        let removed = DataSchema.object(
            properties: ["userId": .string(format: "uuid"), "note": .string(format: nil)], required: ["userId"])
        #expect(check(removed) == .breaking(["data.email was removed"]))
        let retyped = DataSchema.object(
            properties: ["userId": .integer, "email": .string(format: nil), "note": .string(format: nil)],
            required: ["userId", "email"])
        #expect(check(retyped) == .breaking(["data.userId changed from string (uuid) to integer"]))
        let newRequired = DataSchema.object(
            properties: [
                "userId": .string(format: "uuid"), "email": .string(format: nil), "note": .string(format: nil),
                "age": .integer,
            ],
            required: ["userId", "email", "age"])
        #expect(check(newRequired) == .breaking(["data.age is a new required field"]))
        let nowRequired = DataSchema.object(
            properties: [
                "userId": .string(format: "uuid"), "email": .string(format: nil), "note": .string(format: nil),
            ],
            required: ["userId", "email", "note"])
        #expect(check(nowRequired) == .breaking(["data.note became required"]))
        let newOptional = DataSchema.object(
            properties: [
                "userId": .string(format: "uuid"), "email": .string(format: nil), "note": .string(format: nil),
                "age": .integer,
            ],
            required: ["userId", "email"])
        #expect(check(newOptional) == .compatible(additions: ["data.age"]))
        let kinds = DataSchema.object(properties: ["kind": .enumeration(["a", "b"])], required: ["kind"])
        let reordered = DataSchema.object(properties: ["kind": .enumeration(["b", "a"])], required: ["kind"])
        let widened = DataSchema.object(properties: ["kind": .enumeration(["a", "b", "c"])], required: ["kind"])
        #expect(reordered.breakingChanges(from: kinds).isEmpty, "the same values in another order")
        #expect(widened.breakingChanges(from: kinds) == ["data.kind changed from one of a|b to one of a|b|c"])
        #expect(check(.object(properties: [:], required: [])).map(\.fails) == true)

        // Raising the version allows the change; its snapshot must then be written, and
        // the old version's snapshot stays.
        #expect(check(removed, version: 2) == .missingSnapshot(previous: 1))
        #expect(check(removed, version: 2).map(\.fails) == true)
        let both = [
            SchemaSnapshot(type: "Sample", dataVersion: 1, schema: v1),
            SchemaSnapshot(type: "Sample", dataVersion: 2, schema: removed),
        ]
        #expect(check(removed, version: 2, committed: both) == .unchanged)
        #expect(check(v1, version: 1, committed: both) == .versionLowered(committed: 2))
        let gone = ContractCheck.compare(current: [], committed: both)
        #expect(gone.map(\.verdict) == [.noLongerRegistered])
        #expect(check(v1, committed: []) == .missingSnapshot(previous: nil))
    }

    @Test("--update writes new types and compatible changes, never over a breaking change")
    func update() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            TestEnvironment.uniqueName("schemas-")
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try ContractCheck.run(directory: directory, update: false).failed, "no snapshots at all fails")
        #expect(try !ContractCheck.run(directory: directory, update: true).failed)
        #expect(
            try ContractCheck.run(directory: directory, update: false).findings.allSatisfy { $0.verdict == .unchanged })

        // A committed snapshot with a field today's type lacks: a removal, so breaking.
        let snapshot = try #require(try ContractCheck.current().first { $0.type == "UserRegistered" })
        guard case .object(var properties, let required) = snapshot.schema else { return }
        properties["nickname"] = .string(format: nil)
        let path = "\(directory)/\(snapshot.fileName)"
        let edited = SchemaSnapshot(
            type: snapshot.type, dataVersion: 1, schema: .object(properties: properties, required: required))
        try edited.document().write(to: URL(fileURLWithPath: path))
        let updated = try ContractCheck.run(directory: directory, update: true)
        #expect(updated.failed)
        #expect(
            updated.findings.first { $0.type == "UserRegistered" }?.verdict == .breaking(["data.nickname was removed"]))
        #expect(try SchemaSnapshot(document: Data(contentsOf: URL(fileURLWithPath: path))) == edited, "left as it was")
        #expect(throws: CLIError.self) { try ContractCheck.run(directory: "\(directory)/missing", update: false) }
    }

    @Test("an events file is checked line by line before anything is replayed")
    func eventsFile() throws {
        let document = String(
            decoding: try #require(EventRegistry.descriptor(for: "UserRegistered")).exampleDocument, as: UTF8.self)
        let events = try EventFile.parse(document + "\n\n" + document + "\n", name: "events.jsonl")
        #expect(events.count == 2)
        #expect(events.first?.service == .gateway)
        #expect(events.first?.type == "UserRegistered")
        var filter = try EventFilter.parse(["--type", "UserRegistered"])
        #expect(try filter.select(from: events, limit: 1).count == 1)
        filter.type = "ProfileCreated"
        #expect(try filter.select(from: events, limit: 10).isEmpty)
        for (bad, reason) in [
            ("{not json", "events.jsonl line 2"),
            (document.replacingOccurrences(of: "UserRegistered", with: "NoSuchEvent"), "unknown"),
            (document.replacingOccurrences(of: "\"email\"", with: "\"mail\""), "missing"),
            (document.replacingOccurrences(of: "/kindred/gateway", with: "/elsewhere"), "not a Kindred service"),
        ] {
            do {
                _ = try EventFile.parse(document + "\n" + bad, name: "events.jsonl")
                Issue.record("accepted \(bad)")
            } catch let error as CLIError {
                #expect(error.exitCode == 2)
                #expect(error.description.contains("line 2") && error.description.contains(reason), "\(error)")
            }
        }
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
        let envelopes = (0..<5).map { _ in
            let userID = UUID()
            return Envelope(
                source: .gateway, time: Date(), subject: userID.uuidString,
                data: UserRegistered(userId: userID, email: "replay@example.com", registeredAt: Date()),
                correlationID: correlation)
        }
        // Archived as published: a gateway running in another test never publishes them.
        try await archive(envelopes, in: gateway)
        let originals = envelopes.map(\.id.uuidString)
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
        let watch = try await ExchangeWatch(broker: broker, routingKey: "UserRegistered")
        // Dry runs, from the archive and from a file, publish nothing and record nothing: the
        // first message the watching queue gets is a marker published after them.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            TestEnvironment.uniqueName("events-") + ".jsonl")
        try events.map(\.body).joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await ReplayCommand.parse(["--service", "gateway", "--correlation", correlation]).run()
        try await ReplayCommand.parse(["--file", file.path, "--to", "profile"]).run()
        #expect(try EventFile.read(file.path).map(\.id) == originals)
        await #expect(throws: ExitCode.self) {
            try await ReplayCommand.parse(["--file", file.path, "--service", "gateway"]).run()
        }
        try await watch.drainUntilMarker { delivery in
            #expect(delivery.properties.headers[ReplayHeader.replayID] == nil, "a dry run published")
        }
        let recorded = try await gateway.withConnection { connection in
            try connection.execute("SELECT count(*) AS n FROM replays WHERE selection LIKE $1", ["%\(correlation)%"])
                .first?.int("n")
        }
        #expect(recorded == 0, "a dry run records nothing")

        let everyone = try ReplayCommand.Plan(events: events, target: nil)
        let begun = ContinuousClock.now
        let replayID = try await ReplayCommand.replay(
            everyone, asNew: false, rate: 10, on: broker, audit: [.gateway: gateway],
            selection: "--correlation \(correlation)")
        #expect(ContinuousClock.now - begun >= .milliseconds(350), "--rate 10 spaces 5 events over 0.4 s")
        _ = try await ReplayCommand.replay(
            everyone, asNew: true, rate: nil, on: broker, audit: [.gateway: gateway], selection: "as new")
        var received: [Delivery] = []
        for try await delivery in watch.deliveries {
            broker.acknowledge(delivery)
            // Other tests may register users meanwhile: keep only this replay's messages.
            if delivery.properties.headers[ReplayHeader.originalMessageID]?.stringValue.map(originals.contains) == true
            {
                received.append(delivery)
            }
            if received.count == 10 { break }
        }
        let ids = try received.map { try EnvelopeCodec().decodeHeader($0.body).id.uuidString }
        #expect(Array(ids.prefix(5)) == originals, "a replay keeps the original ids, in order")
        #expect(Set(ids.suffix(5)).isDisjoint(with: originals), "--as-new mints new ids")
        #expect(received.prefix(5).allSatisfy { $0.properties.headers[ReplayHeader.replayID] == .string(replayID) })
        let audited = try await gateway.withConnection { connection in
            try connection.execute("SELECT events, destination FROM replays WHERE replay_id = $1", [replayID]).first
        }
        #expect(audited?.int("events") == 5)
        #expect(audited?.string("destination") == "exchange kindred")
        try await gateway.withConnection {
            try $0.execute("DELETE FROM outbox WHERE correlation_id = $1", [correlation])
        }
    }
}

@Suite("kindred contracts permissions: broker provisioning generated from the registry")
struct BrokerPermissionsTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("compose/broker-permissions.tsv")

    @Test("the committed provisioning file is what the registry implies (run kindred contracts permissions --write)")
    func committedFileMatches() throws {
        let committed = try String(contentsOf: Self.file, encoding: .utf8)
        #expect(committed == BrokerPermissions.tsv())
    }

    @Test("each service publishes the types it produces and binds the types it consumes, nothing else")
    func derivedFromTheRegistry() {
        let payment = BrokerPermissions.of(.payment)
        #expect(payment.topicWrite == "^$" && payment.topicRead == "^$", "no events yet")
        let media = BrokerPermissions.of(.media)
        #expect(
            media.topicWrite.contains("PhotoApproved") && !media.topicWrite.contains("PhotoAccepted"),
            "replies are not routed")
        #expect(media.topicRead.contains("PhotoUploadRequested") && !media.topicRead.contains("PhotoApproved"))
        let profile = BrokerPermissions.of(.profile)
        #expect(profile.topicWrite.contains("UserSuspended") && !profile.topicWrite.contains("ProfileFound"))
        #expect(profile.topicRead.contains("UserRegistered") && !profile.topicRead.contains("UserSuspended"))
        #expect(BrokerPermissions.of(.gateway).topicRead.contains("ProfileUpdated"), "its per-instance streams")
        #expect(profile.configure == #"^(kindred|[A-Za-z]+\.profile(\..+)?)$"#)
    }
}
