import ArgumentParser
import Contracts
import Foundation
import Messaging
import OutboundHTTP
import Persistence
import ServiceRuntime
import TestSupport
import Testing

@testable import KindredCLI

/// `kindred` against the six running services: trace follows a real request, replay with
/// --to reaches only the named service's queue, and a dead letter sent back succeeds.
extension WalkingSkeletonTests {
    @Test("kindred trace, replay --to and dead replay against the running services")
    func kindredAgainstRunningServices() async throws {
        try await RunningSuite.run(overrides: [.gateway: ["KINDRED_BCRYPT_COST": "4"]]) { suite in
            let environment = try CLIEnvironment.load(currentDirectory: "/nonexistent")
            let broker = try await environment.broker()
            defer { broker.close() }
            let profiles = try environment.database(.profile)
            let gateway = try environment.database(.gateway)
            defer {
                profiles.close()
                gateway.close()
            }
            func profileExists(_ userID: UUID) async throws -> Bool {
                try await profiles.withConnection { connection in
                    try connection.execute("SELECT 1 FROM profiles WHERE user_id = $1", [userID]).first != nil
                }
            }
            try await traceOfARegistration(suite, environment: environment, broker: broker)
            try await replayToOneService(gateway: gateway, broker: broker, profileExists: profileExists)
            try await deadLetterSentBack(
                environment: environment, gateway: gateway, broker: broker, profileExists: profileExists)
        }
    }

    /// Register with a known X-Request-ID: the gateway publishes UserRegistered, the
    /// profile service consumes it and publishes ProfileCreated, in that order.
    func traceOfARegistration(_ suite: RunningSuite, environment: CLIEnvironment, broker: AMQPConnection)
        async throws
    {
        let requestID = UUID().uuidString
        let email = "\(TestEnvironment.uniqueName("trace-"))@example.com"
        let registered = try await http.send(
            "POST", suite.gatewayURL + "/v1/auth/register",
            headers: ["Content-Type": "application/json", "X-Request-ID": requestID],
            body: Array(#"{"email":"\#(email)","password":"correct horse"}"#.utf8))
        #expect(registered.status == 201, "\(registered.text)")
        var steps: [TraceCommand.Step] = []
        let complete = try await eventually {
            steps = try await TraceCommand.steps(correlation: requestID, environment: environment, broker: broker)
            return steps.count >= 3 && !steps.contains { $0.what.contains("not sent yet") }
        }
        #expect(complete, "\(steps.map { "\($0.service) \($0.what) \($0.type)" })")
        #expect(steps.map(\.service) == [.gateway, .profile, .profile])
        #expect(steps.map(\.type) == ["UserRegistered", "UserRegistered", "ProfileCreated"])
        #expect(steps.map(\.what) == ["published", "consumed from UserRegistered.profile", "published"])
        #expect(steps.map(\.time) == steps.map(\.time).sorted())
    }

    /// An archived UserRegistered replayed with --to profile lands in UserRegistered.profile
    /// only: the profile service creates the profile, and another subscriber of the
    /// exchange sees nothing but the marker published after it.
    func replayToOneService(
        gateway: DatabasePool, broker: AMQPConnection, profileExists: (UUID) async throws -> Bool
    ) async throws {
        let userID = UUID()
        let envelope = Envelope(
            source: .gateway, time: Date(), subject: userID.uuidString,
            data: UserRegistered(userId: userID, email: "replay-to@example.com", registeredAt: Date()),
            correlationID: TestEnvironment.uniqueName("replay-to-"))
        try await archive([envelope], in: gateway)
        let watch = try await ExchangeWatch(broker: broker, routingKey: "UserRegistered")
        var filter = try EventFilter.parse([])
        filter.id = envelope.id.uuidString
        let events = try await filter.events(of: .gateway, from: gateway, limit: 10)
        #expect(events.count == 1)
        let replayID = try await ReplayCommand.replay(
            try ReplayCommand.Plan(events: events, target: .profile), asNew: false, rate: nil, on: broker,
            audit: [.gateway: gateway], selection: "--id \(envelope.id)")
        #expect(try await eventually { try await profileExists(userID) }, "the profile service got the replay")

        try await watch.drainUntilMarker { delivery in
            // Other tests' registrations may pass meanwhile; the replay must not be among them.
            #expect(delivery.properties.headers[ReplayHeader.replayID] == nil, "--to leaked to the exchange")
        }
        let audited = try await gateway.withConnection { connection in
            try connection.execute("SELECT destination FROM replays WHERE replay_id = $1", [replayID]).first
        }
        #expect(audited?.string("destination") == "queues of profile")
    }

    /// A UserRegistered that failed for good (as after a bug now fixed) sits in
    /// UserRegistered.profile.dead; `dead replay` sends it back, .dead no longer has it, and
    /// the handler succeeds, which trace shows with the replay's id.
    func deadLetterSentBack(
        environment: CLIEnvironment, gateway: DatabasePool, broker: AMQPConnection,
        profileExists: (UUID) async throws -> Bool
    ) async throws {
        let userID = UUID()
        let correlation = TestEnvironment.uniqueName("dead-")
        let envelope = Envelope(
            source: .gateway, time: Date(), subject: userID.uuidString,
            data: UserRegistered(userId: userID, email: "dead@example.com", registeredAt: Date()),
            correlationID: correlation)
        // The gateway published it; the profile service's handler failed on every retry.
        try await archive([envelope], in: gateway)
        let body = try EnvelopeCodec().encode(envelope)
        var message = OutgoingMessage.event(
            body: body, header: try EnvelopeCodec().decodeHeader(body), publisher: .gateway)
        message.exchange = ""
        message.routingKey = "UserRegistered.profile.dead"
        message.mandatory = true
        message.properties.headers[DeadLetterHeader.reason] = .string("handler-failed")
        message.properties.headers[DeadLetterHeader.error] = .string("a bug, fixed since")
        message.properties.headers[DeadLetterHeader.attempts] = .int(5)
        message.properties.headers[DeadLetterHeader.originalQueue] = .string("UserRegistered.profile")
        try await broker.publish(message)

        var selection = try DeadSelection.parse([])
        selection.id = envelope.id.uuidString
        let seen = try await DeadLetters.peek(broker: broker, selection: selection, max: 10)
        #expect(seen.map(\.reason) == ["handler-failed"])
        #expect(try await !profileExists(userID), "a dry run (peek) sends nothing")
        let before = try await TraceCommand.steps(correlation: correlation, environment: environment, broker: broker)
        #expect(
            before.map(\.what) == [
                "published", "dead-lettered from UserRegistered.profile after 5 attempts: handler-failed",
            ])

        let (replayID, sent) = try await DeadLetters.replay(broker: broker, selection: selection, max: 10, rate: nil)
        #expect(sent.count == 1)
        #expect(try await eventually { try await profileExists(userID) }, "the handler succeeded")
        #expect(
            try await DeadLetters.peek(broker: broker, selection: selection, max: 10).isEmpty, ".dead is empty of it")
        let steps = try await TraceCommand.steps(correlation: correlation, environment: environment, broker: broker)
        #expect(
            steps.contains { $0.what == "consumed from UserRegistered.profile from replay \(replayID)" },
            "\(steps.map(\.what))")
    }
}
