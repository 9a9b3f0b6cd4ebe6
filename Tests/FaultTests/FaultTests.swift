import Contracts
import Foundation
import Messaging
import OutboundHTTP
import Persistence
import Synchronization
import TestSupport
import Testing

/// Registrations flow through the gateway to the profile service while something fails:
/// the profile service is killed, the broker or the database restarts, or the profile
/// service is stopped gracefully. Afterwards every registered user has exactly one profile
/// and exactly one `ProfileCreated` event, and nothing was dead-lettered.
///
/// These run after every other test, on their own (`scripts/test` runs them in a second
/// phase), because they take the shared broker and database away.
@Suite("Faults: no event lost, none applied twice", .serialized, .timeLimit(.minutes(8)))
struct FaultTests {
    static let registrations = Int(ProcessInfo.processInfo.environment["KINDRED_FAULT_REGISTRATIONS"] ?? "") ?? 1000

    @Test("kill -9 of the profile service mid-flow")
    func killProfile() async throws {
        try await withFlow { suite in
            await suite.kill9(.profile)
            try await Task.sleep(for: .milliseconds(500))
            try suite.start(.profile)
        }
    }

    @Test("RabbitMQ restarts mid-flow; meanwhile services report not-ready and the gateway answers 503")
    func restartBroker() async throws {
        try await withFlow { suite in
            try await Stack.run("stop-broker")
            try await expectOutageAnswers(suite)
            try await Stack.run("start-broker")
        }
    }

    /// While the broker is away: `/ready` is 503 naming the broker, and a read that needs
    /// another service is 503 with `Retry-After` at once, not a hang.
    func expectOutageAnswers(_ suite: RunningSuite) async throws {
        let http = HTTPClient(timeout: .seconds(10))
        let ready = "http://127.0.0.1:\(suite.ports[.profile] ?? 0)/ready"
        let notReady = try await eventually { try await http.send("GET", ready).status == 503 }
        #expect(notReady, "profile still reports ready without a broker")
        let email = "\(TestEnvironment.uniqueName("outage-"))@example.com"
        let registered = try await http.send(
            "POST", "\(suite.gatewayURL)/v1/auth/register", headers: ["Content-Type": "application/json"],
            body: Array(#"{"email":"\#(email)","password":"correct horse"}"#.utf8))
        #expect(registered.status == 201, "registering needs only the gateway's database: \(registered.text)")
        let token = try #require(
            (try JSONSerialization.jsonObject(with: Data(registered.body)) as? [String: Any])?["accessToken"] as? String
        )
        let started = ContinuousClock.now
        let profile = try await http.send(
            "GET", "\(suite.gatewayURL)/v1/profile/me", headers: ["Authorization": "Bearer \(token)"])
        #expect(profile.status == 503, "\(profile.text)")
        #expect(profile.headers["retry-after"] == "5")
        #expect(profile.headers["content-type"] == "application/problem+json")
        for leak in ["5672", "127.0.0.1", "amqp", "socket"] {
            #expect(!profile.text.contains(leak), "the 503 shows an internal error: \(profile.text)")
            #expect(!(try await http.send("GET", ready).text.contains(leak)), "the public /ready shows \(leak)")
        }
        #expect(try await http.send("GET", suite.adminURL(of: .profile) + "/ready").text.contains("broker"))
        #expect(ContinuousClock.now - started < .seconds(5), "the gateway made the caller wait for a dead broker")
    }

    @Test("PostgreSQL restarts mid-flow")
    func restartDatabase() async throws {
        try await withFlow { _ in
            try await Stack.run("stop-postgres")
            try await Task.sleep(for: .seconds(1))
            try await Stack.run("start-postgres")
        }
    }

    @Test("SIGTERM of the profile service mid-flow: it drains and exits cleanly")
    func terminateProfile() async throws {
        try await withFlow { suite in
            let status = try await suite.terminate(.profile)
            #expect(status == 0, "profile exited with \(status) after SIGTERM:\n\(suite.tail(of: .profile))")
            try suite.start(.profile)
        }
    }

    @Test("while the broker blocks publishers, a publish fails at its confirm timeout and a request at its deadline")
    func blockedPublishers() async throws {
        let exchange = TestEnvironment.uniqueName("blocked.")
        let publisher = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "blocked", logger: TestEnvironment.logger("amqp"),
            confirmTimeout: .seconds(1))
        defer { publisher.close() }
        await publisher.waitUntilConnected()
        try await publisher.declare(Topology(exchanges: [ExchangeDeclaration(name: exchange, durable: false)]))
        try await Stack.run("block-publishers")
        do {
            let message = OutgoingMessage(
                exchange: exchange, routingKey: "Anything", body: Array("{}".utf8),
                properties: MessageProperties(messageID: UUID().uuidString))
            do {
                try await publisher.publish(message)
                Issue.record("a publish was confirmed while the broker blocked publishers")
            } catch let error as AMQPError {
                #expect(error == .confirmTimeout, "\(error)")
            }
            let requests = RequestReplyClient(
                publishing: publisher, service: .gateway, logger: TestEnvironment.logger("requests"), exchange: exchange
            )
            let request = Envelope(
                source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: UUID()),
                correlationID: "blocked-publishers")
            do {
                _ = try await requests.request(request, timeout: .milliseconds(1500))
                Issue.record("a request was answered while the broker blocked publishers")
            } catch {
                #expect(error == .deadlineExceeded, "\(error)")
            }
        } catch {
            Issue.record("\(error)")
        }
        try await Stack.run("unblock-publishers")
    }

    /// Starts the suite, registers `registrations` users, injects `fault` once about a
    /// third of them are through, then checks the outcome.
    func withFlow(_ fault: @escaping @Sendable (RunningSuite) async throws -> Void) async throws {
        try await RunningSuite.run(overrides: [.gateway: ["KINDRED_BCRYPT_COST": "4"]]) { suite in
            try await flow(through: suite, fault)
        }
    }

    func flow(through suite: RunningSuite, _ fault: @escaping @Sendable (RunningSuite) async throws -> Void)
        async throws
    {
        let broker = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "faults", logger: TestEnvironment.logger("amqp"))
        defer { broker.close() }
        let deadBefore = try await broker.status(ofQueue: "UserRegistered.profile.dead")?.messages ?? 0

        let prefix = TestEnvironment.uniqueName("fault-")
        let load = Load(gateway: suite.gatewayURL, prefix: prefix, count: Self.registrations)
        let flow = Task { try await load.run() }
        let reached = try await eventually(timeout: .seconds(120)) { load.completed >= Self.registrations / 3 }
        #expect(reached, "the flow never got going:\n\(suite.tails([.gateway, .profile]))")
        try await fault(suite)
        try await flow.value
        #expect(load.completed == Self.registrations)

        let notReadyAfter = try await suite.waitUntilReady(timeout: .seconds(120))
        #expect(notReadyAfter.isEmpty, "not ready after the fault: \(suite.tails(notReadyAfter))")
        let outcome = try await Outcome.wait(for: prefix, expected: Self.registrations)
        #expect(outcome.accounts == Self.registrations)
        #expect(outcome.profiles == Self.registrations, "\(outcome)\n\(suite.tails([.gateway, .profile]))")
        #expect(outcome.profileCreatedEvents == Self.registrations, "\(outcome)")
        #expect(outcome.distinctProfileCreatedSubjects == Self.registrations, "\(outcome)")
        #expect(outcome.unpublished == 0, "\(outcome)")
        let deadAfter = try await broker.status(ofQueue: "UserRegistered.profile.dead")?.messages ?? 0
        #expect(deadAfter == deadBefore, "messages were dead-lettered during the fault")
    }
}

/// Registers users through the gateway like many clients at once. A client whose request
/// failed for a reason that is not its own (503, 5xx, connection refused) tries again; a
/// 409 on a retry means the earlier attempt went through.
final class Load: Sendable {
    let gateway: String
    let prefix: String
    let count: Int
    private let next = Mutex(0)
    private let done = Mutex(0)

    init(gateway: String, prefix: String, count: Int) {
        self.gateway = gateway
        self.prefix = prefix
        self.count = count
    }

    var completed: Int { done.withLock { $0 } }

    func run(clients: Int = 16) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    let http = HTTPClient(timeout: .seconds(10))
                    while let index = self.take() {
                        try await self.register(index, with: http)
                        self.done.withLock { $0 += 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    private func take() -> Int? {
        next.withLock { next in
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    private func register(_ index: Int, with http: HTTPClient) async throws {
        let body = Array(#"{"email":"\#(prefix)-\#(index)@example.com","password":"correct horse"}"#.utf8)
        let deadline = ContinuousClock.now + .seconds(180)
        var retried = false
        while ContinuousClock.now < deadline {
            let response = try? await http.send(
                "POST", "\(gateway)/v1/auth/register", headers: ["Content-Type": "application/json"], body: body)
            switch response?.status {
            case 201: return
            case 409 where retried: return
            case .some(let status) where status < 500 && status != 429:
                throw UnexpectedAnswer(status: status, body: response?.text ?? "")
            default:
                retried = true
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        throw UnexpectedAnswer(status: 0, body: "registration \(index) never went through")
    }

    struct UnexpectedAnswer: Error {
        let status: Int
        let body: String
    }
}

/// What the databases hold for one flow's users.
struct Outcome: CustomStringConvertible {
    var accounts = 0
    var profiles = 0
    var profileCreatedEvents = 0
    var distinctProfileCreatedSubjects = 0
    var unpublished = 0

    var description: String {
        "accounts \(accounts), profiles \(profiles), ProfileCreated \(profileCreatedEvents) "
            + "(\(distinctProfileCreatedSubjects) users), unpublished outbox rows \(unpublished)"
    }

    /// Waits until the profile service has caught up (or two minutes passed), then reads.
    static func wait(for prefix: String, expected: Int) async throws -> Outcome {
        let gateway = try pool("kindred_gateway")
        let profile = try pool("kindred_profile")
        defer {
            gateway.close()
            profile.close()
        }
        var outcome = Outcome()
        _ = try await eventually(timeout: .seconds(120), every: .milliseconds(250)) {
            outcome = try await read(prefix: prefix, gateway: gateway, profile: profile)
            return outcome.profiles >= expected && outcome.profileCreatedEvents >= expected && outcome.unpublished == 0
        }
        // Anything applied twice would show up after a moment more.
        try await Task.sleep(for: .seconds(1))
        return try await read(prefix: prefix, gateway: gateway, profile: profile)
    }

    private static func read(prefix: String, gateway: DatabasePool, profile: DatabasePool) async throws -> Outcome {
        let ids = try await gateway.withConnection { connection in
            try connection.execute("SELECT user_id FROM accounts WHERE email LIKE $1", ["\(prefix)-%"]).rows
                .compactMap { $0.uuid("user_id")?.uuidString }
        }
        var outcome = Outcome(accounts: ids.count)
        let gatewayUnpublished = try await gateway.withConnection { connection in
            try connection.execute(
                "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND subject = ANY($1::text[])", [ids]
            ).first?.int("n") ?? -1
        }
        let counts = try await profile.withConnection { connection in
            try connection.execute(
                """
                SELECT (SELECT count(*) FROM profiles WHERE user_id = ANY($1::uuid[])) AS profiles,
                       count(*) AS events, count(DISTINCT subject) AS subjects,
                       count(*) FILTER (WHERE published_at IS NULL) AS unpublished
                FROM outbox WHERE event_type = 'ProfileCreated' AND subject = ANY($2::text[])
                """, [ids, ids]
            ).first
        }
        outcome.profiles = counts?.int("profiles") ?? -1
        outcome.profileCreatedEvents = counts?.int("events") ?? -1
        outcome.distinctProfileCreatedSubjects = counts?.int("subjects") ?? -1
        outcome.unpublished = gatewayUnpublished + (counts?.int("unpublished") ?? 0)
        return outcome
    }

    private static func pool(_ database: String) throws -> DatabasePool {
        DatabasePool(
            connectionString: try TestEnvironment.adminDatabaseURL(database: database), size: 1,
            logger: TestEnvironment.logger("faults"))
    }
}
