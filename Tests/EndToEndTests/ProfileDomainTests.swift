import Contracts
import Foundation
import Messaging
import OutboundHTTP
import Persistence
import TestSupport
import Testing

@testable import KindredCLI

/// The profile routes through the real gateway and profile service: the whole profile,
/// private location and distance bands (with the trilateration attack), the attachment
/// assessment, other people's profiles, reports with the three-reporter suspension, and
/// moderation by an account an operator made a moderator with `kindred accounts grant`.
/// In `WalkingSkeletonTests`, whose tests run one at a time: each starts the six services
/// on the same ports.
extension WalkingSkeletonTests {
    @Test("profiles, location and distance bands, assessments, reports and moderation, through the gateway")
    func profileDomain() async throws {
        try await RunningSuite.run(overrides: ProfileFlows.overrides) { suite in
            let flows = ProfileFlows()
            try await flows.editing(suite)
            try await flows.locationsAndViews(suite)
            try await flows.assessment(suite)
            try await flows.reportsAndModeration(suite)
        }
    }
}

/// The steps of `profileDomain`, each a client's flow.
struct ProfileFlows {
    let http = HTTPClient(timeout: .seconds(15))
    static let overrides: [ServiceName: [String: String]] = [
        .gateway: ["KINDRED_BCRYPT_COST": "4", "KINDRED_RATE_LIMIT_AUTH_PER_MINUTE": "10000"]
    ]

    struct User {
        var id: String
        var email: String
        var token: String
    }

    func json(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], "\(response.text)")
    }

    func send(_ method: String, _ url: String, token: String? = nil, body: String? = nil) async throws -> HTTPResponse {
        var headers = ["Content-Type": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try await http.send(method, url, headers: headers, body: body.map { Array($0.utf8) })
    }

    func fields(_ response: HTTPResponse) throws -> [String] {
        #expect(response.status == 422, "\(response.text)")
        #expect(response.headers["content-type"] == "application/problem+json")
        return (try json(response)["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    }

    func register(_ suite: RunningSuite, _ name: String) async throws -> User {
        let email = "\(TestEnvironment.uniqueName(name + "-"))@example.com"
        let answer = try await send(
            "POST", suite.gatewayURL + "/v1/auth/register", body: #"{"email":"\#(email)","password":"correct horse"}"#)
        #expect(answer.status == 201, "\(answer.text)")
        let body = try json(answer)
        let user = User(
            id: try #require(body["userId"] as? String), email: email,
            token: try #require(body["accessToken"] as? String))
        // The profile is created from UserRegistered, a moment later.
        let created = try await eventually {
            try await send("GET", suite.gatewayURL + "/v1/profile/me", token: user.token).status == 200
        }
        #expect(created)
        return user
    }

    func login(_ suite: RunningSuite, _ user: User) async throws -> HTTPResponse {
        try await send(
            "POST", suite.gatewayURL + "/v1/auth/login", body: #"{"email":"\#(user.email)","password":"correct horse"}"#
        )
    }

    /// A complete, visible profile, with an approved photo unless `photo` is false.
    func fillIn(_ suite: RunningSuite, _ user: User, name: String, photo: Bool = true) async throws {
        let answer = try await send(
            "PUT", suite.gatewayURL + "/v1/profile/me", token: user.token,
            body: """
                {"displayName":"\(name)","birthdate":"1994-03-02","gender":"woman","seeking":["man","woman"],
                 "bio":"Hello","interests":["hiking","chess"],"relationshipIntent":"long-term","languages":["en"]}
                """)
        #expect(answer.status == 200, "\(answer.text)")
        if photo { try await PhotoFlows().givePhoto(suite, token: user.token) }
    }

    func locate(_ suite: RunningSuite, _ user: User, _ latitude: Double, _ longitude: Double) async throws
        -> HTTPResponse
    {
        try await send(
            "PUT", suite.gatewayURL + "/v1/profile/me/location", token: user.token,
            body: #"{"latitude":\#(latitude),"longitude":\#(longitude)}"#)
    }

    /// PUT, PATCH, the vocabulary, and every field's 422.
    func editing(_ suite: RunningSuite) async throws {
        let api = suite.gatewayURL + "/v1"
        let ada = try await register(suite, "ada")
        let vocabulary = try json(try await send("GET", "\(api)/vocabulary"))
        let groups = try #require(vocabulary["interests"] as? [[String: Any]])
        #expect(groups.flatMap { $0["tags"] as? [String] ?? [] }.count == ProfileVocabulary.interests.count)
        #expect((vocabulary["values"] as? [[String: Any]])?.count == ProfileVocabulary.values.count)

        let put = try await send(
            "PUT", "\(api)/profile/me", token: ada.token,
            body: """
                {"displayName":"Ada","birthdate":"1990-05-17","gender":"woman","seeking":["man"],
                 "interests":["poetry","science"],"values":\(Array(ProfileVocabulary.valueIDs.reversed())),
                 "relationshipIntent":"long-term","heightCm":170,"job":"Analyst","education":"Tutors",
                 "languages":["en","fr"],"timeZone":"Europe/London",
                 "discovery":{"ageMin":30,"ageMax":45,"maxDistanceKm":25,"genders":["man"]}}
                """)
        #expect(put.status == 200, "\(put.text)")
        let profile = try json(put)
        #expect(profile["interests"] as? [String] == ["poetry", "science"])
        #expect((profile["discovery"] as? [String: Any])?["maxDistanceKm"] as? Int == 25)
        #expect(profile["visible"] as? Bool == true)

        let patched = try json(
            try await send(
                "PATCH", "\(api)/profile/me", token: ada.token,
                body: #"{"bio":"Engines","job":null,"discovery":{"maxDistanceKm":10},"visible":false}"#))
        #expect(patched["bio"] as? String == "Engines")
        #expect(patched["job"] == nil, "cleared")
        #expect(patched["education"] as? String == "Tutors", "untouched")
        #expect(patched["visible"] as? Bool == false)
        let discovery = try #require(patched["discovery"] as? [String: Any])
        #expect(discovery["maxDistanceKm"] as? Int == 10 && discovery["ageMin"] as? Int == 30)
        #expect(try json(try await send("GET", "\(api)/profile/me", token: ada.token))["bio"] as? String == "Engines")

        let invalid = try await send(
            "PATCH", "\(api)/profile/me", token: ada.token,
            body: """
                {"interests":["hiking","moon-golf"],"heightCm":"tall","timeZone":"EST","relationshipIntent":"forever",
                 "discovery":{"ageMin":50,"ageMax":40,"colour":"red"},"displayName":null,"nickname":"A"}
                """)
        #expect(
            Set(try fields(invalid)) == [
                "heightCm", "discovery.colour", "nickname",
            ], "the gateway names what is not even the right JSON first")
        let rules = try await send(
            "PATCH", "\(api)/profile/me", token: ada.token,
            body: """
                {"interests":["hiking","moon-golf"],"timeZone":"EST","relationshipIntent":"forever",
                 "discovery":{"ageMin":50,"ageMax":40},"displayName":null}
                """)
        #expect(
            Set(try fields(rules)) == [
                "interests", "timeZone", "relationshipIntent", "discovery.ageMax", "displayName",
            ])
    }

    /// Locations become cells; others see bands; three observers cannot tell two points of
    /// one cell apart; and every reason to hide a profile answers the same 404.
    func locationsAndViews(_ suite: RunningSuite) async throws {
        let api = suite.gatewayURL + "/v1"
        let first = try await register(suite, "target-a")
        let second = try await register(suite, "target-b")
        for (user, name) in [(first, "First"), (second, "Second")] { try await fillIn(suite, user, name: name) }
        // Two points of the same cell, some 300 m apart, in central Paris.
        let base = try #require(LocationGrid.cell(latitude: 48.8566, longitude: 2.3522))
        let centre = LocationGrid.centre(of: base)
        let offset = LocationGrid.rowHeightDegrees * 0.3
        let stored = try await locate(suite, first, centre.latitude - offset, centre.longitude)
        #expect(stored.status == 200, "\(stored.text)")
        #expect(try json(stored).keys.sorted() == ["cellSizeKm", "updatedAt"], "the answer says nothing of where")
        #expect(try await locate(suite, second, centre.latitude + offset, centre.longitude).status == 200)

        let again = try await locate(suite, first, 48.9, 2.4)
        #expect(again.status == 429, "\(again.text)")
        #expect(Int(again.headers["retry-after"] ?? "") ?? 0 > 0)
        #expect(try fields(try await locate(suite, first, 91, 0)) == ["latitude"])
        #expect(
            Set(try fields(try await send("PUT", "\(api)/profile/me/location", token: first.token, body: "{}")))
                == ["latitude", "longitude"])

        // Three observers around them: 4 km north-east, 12 km south, 30 km west.
        let placements = [(48.8566 + 0.026, 2.3522 + 0.039), (48.8566 - 0.108, 2.3522), (48.8566, 2.3522 - 0.44)]
        var observers: [User] = []
        for (index, point) in placements.enumerated() {
            let observer = try await register(suite, "observer\(index)")
            try await fillIn(suite, observer, name: "Observer \(index)")
            #expect(try await locate(suite, observer, point.0, point.1).status == 200)
            observers.append(observer)
        }
        for observer in observers {
            let ofFirst = try await send("GET", "\(api)/profiles/\(first.id)", token: observer.token)
            let ofSecond = try await send("GET", "\(api)/profiles/\(second.id)", token: observer.token)
            #expect(ofFirst.status == 200, "\(ofFirst.text)")
            let a = try json(ofFirst)
            let b = try json(ofSecond)
            let distanceA = try #require(a["distance"] as? [String: Any])
            let distanceB = try #require(b["distance"] as? [String: Any])
            #expect(NSDictionary(dictionary: distanceA).isEqual(to: distanceB), "two points of one cell look the same")
            #expect(a["age"] as? Int == 32 && a["birthdate"] == nil)
            for text in [ofFirst.text, ofSecond.text] {
                #expect(!text.contains("48.8") && !text.contains("2.35") && !text.contains("cell"), "\(text)")
            }
        }
        let labels = try await observers.asyncMap { observer in
            try json(try await send("GET", "\(api)/profiles/\(first.id)", token: observer.token))["distance"]
                .flatMap { ($0 as? [String: Any])?["label"] as? String }
        }
        #expect(labels == ["2–5 km", "10–15 km", "30–35 km"])

        // The same 404 for a user who does not exist, is paused, blocked the viewer, or is not a user id.
        let viewer = observers[0]
        func notFound(_ path: String, _ why: String) async throws -> String {
            let answer = try await send("GET", "\(api)/profiles/\(path)", token: viewer.token)
            #expect(answer.status == 404, "\(why): \(answer.text)")
            var problem = try json(answer)
            problem["instance"] = nil
            return String(
                decoding: try JSONSerialization.data(withJSONObject: problem, options: .sortedKeys), as: UTF8.self)
        }
        let unknown = try await notFound(UUID().uuidString, "unknown")
        #expect(try await notFound("not-a-user", "not a user id") == unknown)
        #expect(
            try await send("PATCH", "\(api)/profile/me", token: second.token, body: #"{"visible":false}"#).status == 200
        )
        #expect(try await notFound(second.id, "paused") == unknown)

        let broker = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "e2e-block", logger: TestEnvironment.logger("amqp")
        )
        defer { broker.close() }
        await broker.waitUntilConnected()
        let block = Envelope(
            source: .matching, time: Date(), subject: first.id,
            data: UserBlocked(
                blockerId: try #require(UUID(uuidString: first.id)),
                blockedId: try #require(UUID(uuidString: viewer.id)),
                blockedAt: Date()),
            correlationID: "e2e-block")
        try await EventPublisher(connection: broker, service: .matching).publish(block)
        let hidden = try await eventually {
            try await send("GET", "\(api)/profiles/\(first.id)", token: viewer.token).status == 404
        }
        #expect(hidden, "a user who blocked the viewer is hidden")
        #expect(try await notFound(first.id, "blocked") == unknown)
    }

    func assessment(_ suite: RunningSuite) async throws {
        let api = suite.gatewayURL + "/v1"
        let user = try await register(suite, "assessed")
        let questionnaire = try json(try await send("GET", "\(api)/assessments/attachment", token: user.token))
        let items = try #require(questionnaire["items"] as? [[String: Any]])
        #expect(items.count == 18)
        #expect(items.filter { $0["subscale"] as? String == "anxiety" }.count == 9)
        #expect(try await send("GET", "\(api)/assessments/attachment").status == 401)

        // Agree with every anxiety item and disagree with every avoidance item, keyed.
        let answers = items.map { item -> Int in
            let anxious = item["subscale"] as? String == "anxiety"
            let reverse = item["reverseKeyed"] as? Bool == true
            let keyed = anxious ? 6 : 2
            return reverse ? 8 - keyed : keyed
        }
        let scored = try await send(
            "POST", "\(api)/assessments/attachment", token: user.token, body: #"{"answers":\#(answers)}"#)
        #expect(scored.status == 201, "\(scored.text)")
        let result = try json(scored)
        #expect(result["style"] as? String == "anxious")
        #expect(result["anxiety"] as? Double == 6 && result["avoidance"] as? Double == 2)
        #expect((result["explanation"] as? String)?.isEmpty == false)
        let profile = try json(try await send("GET", "\(api)/profile/me", token: user.token))
        #expect(profile["attachmentStyle"] as? String == "anxious")
        #expect(
            try fields(
                try await send(
                    "POST", "\(api)/assessments/attachment", token: user.token, body: #"{"answers":[1,2,9]}"#))
                == ["answers"])
        #expect(
            try fields(
                try await send(
                    "POST", "\(api)/assessments/attachment", token: user.token, body: #"{"answers":"all 4"}"#))
                == ["answers"])
    }

    /// Three reporters suspend; a moderator (granted with the CLI) lists and reinstates.
    func reportsAndModeration(_ suite: RunningSuite) async throws {
        let api = suite.gatewayURL + "/v1"
        let target = try await register(suite, "reported")
        try await fillIn(suite, target, name: "Reported")
        var reporters: [User] = []
        for index in 0..<3 { reporters.append(try await register(suite, "reporter\(index)")) }

        let filed = try await send(
            "POST", "\(api)/reports", token: reporters[0].token,
            body: #"{"userId":"\#(target.id)","reason":"spam","detail":"Links to a shop"}"#)
        #expect(filed.status == 201, "\(filed.text)")
        #expect(try json(filed)["status"] as? String == "open")
        let twice = try await send(
            "POST", "\(api)/reports", token: reporters[0].token, body: #"{"userId":"\#(target.id)","reason":"spam"}"#)
        #expect(twice.status == 409, "\(twice.text)")
        #expect(
            Set(
                try fields(
                    try await send(
                        "POST", "\(api)/reports", token: reporters[0].token, body: #"{"userId":"nope","reason":"rude"}"#
                    )
                )) == ["userId"])
        #expect(
            try fields(
                try await send(
                    "POST", "\(api)/reports", token: reporters[0].token,
                    body: #"{"userId":"\#(target.id)","reason":"rude"}"#)) == ["reason"])

        #expect(try await login(suite, target).status == 200, "two reports are not enough")
        for reporter in reporters.dropFirst() {
            let answer = try await send(
                "POST", "\(api)/reports", token: reporter.token, body: #"{"userId":"\#(target.id)","reason":"scam"}"#)
            #expect(answer.status == 201, "\(answer.text)")
        }
        let suspended = try await eventually { try await login(suite, target).status == 403 }
        #expect(suspended, "three reporters suspend: the gateway refuses the sign-in")
        #expect(try await send("GET", "\(api)/profiles/\(target.id)", token: reporters[0].token).status == 404)

        // Moderation: 403 until an operator grants the role, then list and reinstate.
        let moderator = try await register(suite, "moderator")
        #expect(try await send("GET", "\(api)/admin/reports", token: moderator.token).status == 403)
        let environment = try CLIEnvironment.load(currentDirectory: "/nonexistent")
        let said = try await AccountsCommand.change("moderator", moderator.email, granted: true, in: environment)
        #expect(said.hasPrefix("granted moderator"))
        var token = ""
        let granted = try await eventually {
            let signedIn = try await login(suite, moderator)
            token = (try? json(signedIn)["accessToken"] as? String) ?? ""
            return try await send("GET", "\(api)/admin/reports", token: token).status == 200
        }
        #expect(granted, "the next token carries the role")
        let listed = try json(try await send("GET", "\(api)/admin/reports?status=open", token: token))
        let open = try #require(listed["reports"] as? [[String: Any]]).filter { $0["userId"] as? String == target.id }
        #expect(open.count == 3)
        let reportID = try #require(open.first?["reportId"] as? String)
        #expect(
            try fields(
                try await send(
                    "POST", "\(api)/admin/reports/\(reportID)/decision", token: token, body: #"{"action":"smite"}"#))
                == ["action"])
        #expect(
            try await send(
                "POST", "\(api)/admin/reports/\(reportID)/decision", token: reporters[0].token,
                body: #"{"action":"dismiss"}"#
            ).status == 403)
        let decided = try await send(
            "POST", "\(api)/admin/reports/\(reportID)/decision", token: token,
            body: #"{"action":"reinstate","note":"coordinated false reports"}"#)
        #expect(decided.status == 200, "\(decided.text)")
        #expect(try json(decided)["action"] as? String == "reinstate")
        let back = try await eventually { try await login(suite, target).status == 200 }
        #expect(back, "UserReinstated lifts the suspension at the gateway")
        let remaining = try json(try await send("GET", "\(api)/admin/reports?status=open", token: token))
        #expect(
            (remaining["reports"] as? [[String: Any]] ?? []).filter { $0["userId"] as? String == target.id }.isEmpty,
            "a reinstatement answers every open report about the user")
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
