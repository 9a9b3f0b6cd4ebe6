import Contracts
import Foundation
import Messaging
import OutboundHTTP
import Persistence
import TestSupport
import Testing

/// Starts the six executables as separate processes against the real RabbitMQ and
/// PostgreSQL, and drives the README's walk-through over HTTP like a client would.
@Suite("End to end: register, log in, and a profile through request/reply", .serialized, .timeLimit(.minutes(5)))
struct WalkingSkeletonTests {
    let http = HTTPClient(timeout: .seconds(15))

    func json(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func send(_ method: String, _ url: String, token: String? = nil, body: String? = nil) async throws -> HTTPResponse {
        var headers = ["Content-Type": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try await http.send(method, url, headers: headers, body: body.map { Array($0.utf8) })
    }

    func expectProblem(_ response: HTTPResponse, status: Int, _ comment: Comment? = nil) throws {
        #expect(response.status == status, comment)
        #expect(response.headers["content-type"] == "application/problem+json", comment)
        let problem = try json(response)
        #expect(problem["status"] as? Int == status)
        #expect(problem["title"] is String)
        #expect(problem["type"] is String)
    }

    /// Publishes `UserSuspended` for `userID` as an operator would (`kindred publish`).
    func suspend(_ userID: String) async throws {
        let broker = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "e2e-suspend",
            logger: TestEnvironment.logger("amqp"))
        defer { broker.close() }
        await broker.waitUntilConnected()
        let suspended = Envelope(
            source: .profile, time: Date(), subject: userID,
            data: UserSuspended(userId: try #require(UUID(uuidString: userID)), reason: "tests", sequence: 1),
            correlationID: "suspension-test")
        try await EventPublisher(connection: broker, service: .profile).publish(suspended)
    }

    @Test("the walk-through of the README works against six real processes")
    func walkThrough() async throws {
        try await RunningSuite.run { suite in
            try await drive(suite)
            try await checkIsolation()
        }
    }

    func drive(_ suite: RunningSuite) async throws {
        let api = suite.gatewayURL + "/v1"
        let email = "\(TestEnvironment.uniqueName("ada-"))@example.com"

        // 1. Register, log in, and the failures of both.
        let registered = try await send(
            "POST", "\(api)/auth/register", body: #"{"email":"\#(email)","password":"correct horse"}"#)
        #expect(registered.status == 201, "\(registered.text)")
        let registration = try json(registered)
        let token = try #require(registration["accessToken"] as? String)
        let userID = try #require(registration["userId"] as? String)
        #expect(registration["expiresIn"] as? Int == 900)
        #expect(registration["refreshToken"] is String)
        #expect(registered.headers["x-request-id"]?.isEmpty == false)

        try expectProblem(
            try await send("POST", "\(api)/auth/register", body: #"{"email":"\#(email)","password":"correct horse"}"#),
            status: 409)
        let invalid = try await send("POST", "\(api)/auth/register", body: #"{"email":"nope","password":"x","age":3}"#)
        try expectProblem(invalid, status: 422)
        let invalidFields = (try json(invalid)["errors"] as? [[String: Any]] ?? []).compactMap {
            $0["field"] as? String
        }
        #expect(Set(invalidFields) == ["email", "password", "age"])
        try expectProblem(try await send("POST", "\(api)/auth/register", body: "{not json"), status: 400)

        let login = try await send(
            "POST", "\(api)/auth/login", body: #"{"email":"\#(email.uppercased())","password":"correct horse"}"#)
        #expect(login.status == 200)
        #expect(try json(login)["accessToken"] is String)
        #expect(try json(login)["userId"] as? String == userID)
        let wrongPassword = try await send(
            "POST", "\(api)/auth/login", body: #"{"email":"\#(email)","password":"wrong horse"}"#)
        try expectProblem(wrongPassword, status: 401)
        let shortWrongPassword = try await send(
            "POST", "\(api)/auth/login", body: #"{"email":"\#(email)","password":"x"}"#)
        try expectProblem(shortWrongPassword, status: 401)
        let unknownUser = try await send(
            "POST", "\(api)/auth/login", body: #"{"email":"nobody@example.com","password":"wrong horse"}"#)
        try expectProblem(unknownUser, status: 401)
        #expect(try json(wrongPassword)["type"] as? String == json(unknownUser)["type"] as? String)

        // 2. UserRegistered reaches the profile service, which creates an empty profile.
        try expectProblem(try await send("GET", "\(api)/profile/me"), status: 401)
        try expectProblem(try await send("GET", "\(api)/profile/me", token: "forged.token.value"), status: 401)
        var empty: HTTPResponse?
        let created = try await eventually {
            empty = try await send("GET", "\(api)/profile/me", token: token)
            return empty?.status == 200
        }
        #expect(created, "profile never appeared: \(empty?.text ?? "-")")
        let emptyProfile = try json(try #require(empty))
        #expect(emptyProfile["userId"] as? String == userID)
        #expect(emptyProfile["displayName"] == nil)
        #expect(emptyProfile["seeking"] as? [String] == [])

        // 3. PUT and GET round-trip through request/reply events.
        let wrong = try await send(
            "PUT", "\(api)/profile/me", token: token,
            body: #"{"displayName":"","birthdate":"2015-01-01","gender":"robot","seeking":[],"bio":"hi"}"#)
        try expectProblem(wrong, status: 422)
        let wrongFields = (try json(wrong)["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
        #expect(wrongFields == ["displayName", "birthdate", "gender", "seeking"])
        let mistyped = try await send(
            "PUT", "\(api)/profile/me", token: token, body: #"{"displayName":7,"seeking":"man"}"#)
        try expectProblem(mistyped, status: 422)

        let body =
            #"{"displayName":"Ada","birthdate":"1990-05-17","gender":"woman","seeking":["man","nonbinary"],"bio":"Engines."}"#
        let put = try await send("PUT", "\(api)/profile/me", token: token, body: body)
        #expect(put.status == 200, "\(put.text)")
        let got = try await send("GET", "\(api)/profile/me", token: token)
        #expect(got.status == 200)
        let profile = try json(got)
        #expect(profile["displayName"] as? String == "Ada")
        #expect(profile["birthdate"] as? String == "1990-05-17")
        #expect(profile["gender"] as? String == "woman")
        #expect(profile["seeking"] as? [String] == ["man", "nonbinary"])
        #expect(profile["bio"] as? String == "Engines.")

        try expectProblem(try await send("GET", "\(api)/nothing-here"), status: 404)

        // The profile service published ProfileCreated and ProfileUpdated through its outbox.
        let admin = DatabasePool(
            connectionString: try TestEnvironment.adminDatabaseURL(database: "kindred_profile"), size: 1,
            logger: TestEnvironment.logger("admin"))
        defer { admin.close() }
        let published = try await eventually {
            let types = try await admin.withConnection { connection in
                try connection.execute(
                    "SELECT event_type FROM outbox WHERE subject = $1 AND published_at IS NOT NULL ORDER BY position",
                    [userID]
                ).rows.compactMap { $0.string("event_type") }
            }
            return types == ["ProfileCreated", "ProfileUpdated"]
        }
        #expect(published)

        // The broker has the profile service's queue, with a consumer.
        let broker = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "e2e-admin", logger: TestEnvironment.logger("amqp")
        )
        defer { broker.close() }
        let queue = try await broker.status(ofQueue: "UserRegistered.profile")
        #expect(queue != nil)
        #expect((queue?.consumers ?? 0) >= 1)
    }

    /// Each service's own tables exist only in its own database.
    func checkIsolation() async throws {
        var tablesByDatabase: [ServiceName: Set<String>] = [:]
        for service in ServiceName.allCases {
            let pool = DatabasePool(
                connectionString: try TestEnvironment.adminDatabaseURL(database: "kindred_\(service.rawValue)"),
                size: 1,
                logger: TestEnvironment.logger("admin"))
            defer { pool.close() }
            tablesByDatabase[service] = try await pool.withConnection { connection in
                Set(
                    try connection.execute(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                    ).rows.compactMap { $0.string("table_name") })
            }
        }
        let own: [ServiceName: [String]] = [.gateway: ["accounts"], .profile: ["profiles"]]
        for (owner, tables) in own {
            for table in tables {
                for (service, present) in tablesByDatabase {
                    #expect(
                        present.contains(table) == (service == owner),
                        "table \(table) in kindred_\(service.rawValue): \(present.contains(table))")
                }
            }
        }
        for (service, present) in tablesByDatabase {
            #expect(present.isSuperset(of: ["outbox", "inbox"]), "\(service.rawValue) lacks the shared tables")
        }
    }
}
