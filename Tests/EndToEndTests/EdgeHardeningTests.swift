import Contracts
import Foundation
import OutboundHTTP
import Persistence
import TestSupport
import Testing

/// One row of the gateway's `idempotency_keys`, its body decoded as text.
private struct StoredIdempotencyKey: Sendable {
    var scope: String
    var key: String
    var status: Int?
    var signedInUser: String?
    var body: String
}

/// The gateway's edge: one spelling per path, no NUL in text, and sign-ins and refreshes
/// whose Idempotency-Key neither stores nor replays a token.
extension WalkingSkeletonTests {
    /// Cheap password hashes: these tests count requests, they do not measure bcrypt.
    private static let quickHashes: [ServiceName: [String: String]] = [.gateway: ["KINDRED_BCRYPT_COST": "4"]]

    @Test("rate limits hold whatever the path's spelling")
    func rateLimitsHoldWhateverThePathsSpelling() async throws {
        // A suite of its own with the default budget: RunningSuite lifts the limits for every
        // other suite, and all test clients share the address 127.0.0.1.
        let budget = 10
        let overrides: [ServiceName: [String: String]] = [
            .gateway: ["KINDRED_RATE_LIMIT_AUTH_PER_MINUTE": String(budget), "KINDRED_BCRYPT_COST": "4"]
        ]
        try await RunningSuite.run(overrides: overrides, logsOnFailure: [.gateway]) { suite in
            let login = "/v1/auth/login"
            let spellings = [
                login, "//v1/auth/login", "/v1//auth/login", "/v1/auth/login/", "/v1/auth%2Flogin", "/V1/AUTH/LOGIN",
            ]
            let started = ContinuousClock.now
            let email = "\(TestEnvironment.uniqueName("spelled-"))@example.com"
            let credentials = #"{"email":"\#(email)","password":"correct horse"}"#
            let registered = try await send("POST", "\(suite.gatewayURL)/v1/auth/register", body: credentials)
            #expect(registered.status == 201, "\(registered.text)")
            // 40 requests cycling through the spellings hold only 7 canonical ones, fewer than the
            // budget (the others are refused before the limiter counts them): `budget` more
            // canonical ones must then meet the limit.
            let paths = (0..<40).map { spellings[$0 % spellings.count] } + Array(repeating: login, count: budget)
            let wrongPassword = #"{"email":"\#(email)","password":"wrong horse"}"#
            var answers: [(path: String, response: HTTPResponse)] = []
            for path in paths {
                let response = try await send("POST", suite.gatewayURL + path, body: wrongPassword)
                answers.append((path: path, response: response))
            }
            // The bucket refills continuously (`budget` a minute); the registration took one token.
            let elapsed: Duration = ContinuousClock.now - started
            let refilled = Int(Double(budget) * (elapsed / Duration.seconds(60)))
            var statuses: [String: [Int: Int]] = [:]
            for (path, response) in answers { statuses[path, default: [:]][response.status, default: 0] += 1 }

            let unauthorized = answers.filter { $0.response.status == 401 }.count
            #expect(unauthorized >= 1, "no wrong password was ever checked: \(statuses)")
            #expect(unauthorized <= budget - 1 + refilled, "more 401s than the budget allows: \(statuses)")
            #expect(answers.contains(where: { $0.response.status == 429 }), "the limit never answered: \(statuses)")
            // `%2F` and the upper-case path may miss the router (404) instead; never may they log in.
            func allowed(_ path: String) -> Set<Int> {
                if path == login { return [401, 429] }
                return ["/v1/auth%2Flogin", "/V1/AUTH/LOGIN"].contains(path) ? [400, 404] : [400]
            }
            let unexpected = answers.filter { !allowed($0.path).contains($0.response.status) }
            #expect(unexpected.isEmpty, "\(unexpected.map { "\($0.path) → \($0.response.status)" }); \(statuses)")
            // A 404 of an unmatched path is problem+json too: GatewayMiddleware wraps the router's
            // not-found responder and turns its HTTPError into a problem.
            let notProblems = answers.filter { $0.response.headers["content-type"] != "application/problem+json" }
            #expect(notProblems.isEmpty, "\(notProblems.map { "\($0.path) → \($0.response.status)" })")
            for (path, response) in answers where response.status == 400 {
                let type = try json(response)["type"] as? String
                #expect(type?.hasSuffix("non-canonical-path") == true, "\(path): \(response.text)")
            }
            for (path, response) in answers where response.status == 429 {
                #expect(Int(response.headers["retry-after"] ?? "") ?? 0 >= 1, "\(path) 429 without Retry-After")
            }
        }
    }

    @Test("text with NUL characters is refused, not truncated")
    func textWithNULIsRefused() async throws {
        try await RunningSuite.run(overrides: Self.quickHashes, logsOnFailure: [.gateway]) { suite in
            let api = suite.gatewayURL + "/v1"
            // `\u0000` below is the JSON escape (six characters on the wire); the parser makes it NUL.
            let nulEmail = try await send(
                "POST", "\(api)/auth/register", body: #"{"email":"nul\u0000@example.com","password":"correct horse"}"#)
            try expectProblem(nulEmail, status: 422, "\(nulEmail.text)")
            #expect(try fieldErrors(nulEmail).keys.sorted() == ["email"], "\(nulEmail.text)")
            #expect(try fieldErrors(nulEmail)["email"]?.contains("NUL") == true, "\(nulEmail.text)")

            let email = "\(TestEnvironment.uniqueName("nul-"))@example.com"
            let nulPassword = try await send(
                "POST", "\(api)/auth/register", body: #"{"email":"\#(email)","password":"correct\u0000horse"}"#)
            try expectProblem(nulPassword, status: 422, "\(nulPassword.text)")
            #expect(try fieldErrors(nulPassword).keys.sorted() == ["password"], "\(nulPassword.text)")

            let member = try await send(
                "POST", "\(api)/auth/register", body: #"{"email":"\#(email)","password":"correct horse"}"#)
            #expect(member.status == 201, "the refused registration stored nothing: \(member.text)")
            let token = try #require(try json(member)["accessToken"] as? String)
            let nulName = try await send(
                "PUT", "\(api)/profile/me", token: token, body: #"{"displayName":"Ada\u0000Lovelace"}"#)
            try expectProblem(nulName, status: 422, "\(nulName.text)")
            #expect(try fieldErrors(nulName).keys.sorted() == ["displayName"], "\(nulName.text)")
        }
    }

    @Test("idempotent sign-ins store no tokens and re-issue them")
    func idempotentSignInsStoreNoTokens() async throws {
        try await RunningSuite.run(overrides: Self.quickHashes, logsOnFailure: [.gateway]) { suite in
            let api = suite.gatewayURL + "/v1"
            let key = UUID().uuidString
            let headers = ["Content-Type": "application/json", "Idempotency-Key": key]
            let body = Array(
                #"{"email":"\#(TestEnvironment.uniqueName("replayed-"))@example.com","password":"correct horse"}"#.utf8)
            let original = try await http.send("POST", "\(api)/auth/register", headers: headers, body: body)
            let replayed = try await http.send("POST", "\(api)/auth/register", headers: headers, body: body)
            #expect(original.status == 201, "\(original.text)")
            #expect(replayed.status == 201, "\(replayed.text)")
            #expect(original.headers["idempotent-replayed"] == nil)
            #expect(replayed.headers["idempotent-replayed"] == "true")
            let first = try json(original)
            let again = try json(replayed)
            let userID = try #require(first["userId"] as? String)
            #expect(again["userId"] as? String == userID, "a replay signs the same user in")
            let firstAccess = try #require(first["accessToken"] as? String)
            let firstRefresh = try #require(first["refreshToken"] as? String)
            let againAccess = try #require(again["accessToken"] as? String)
            let againRefresh = try #require(again["refreshToken"] as? String)
            #expect(againAccess != firstAccess, "a replay issues a new access token")
            #expect(againRefresh != firstRefresh, "a replay issues a new refresh token")
            for refresh in [firstRefresh, againRefresh] {
                let rotated = try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(refresh)"}"#)
                #expect(rotated.status == 200, "each refresh token works once: \(rotated.text)")
            }

            let rows = try await idempotencyKeys()
            // `"refreshToken":"` is a token answer's member; a stored 422 may still name the field.
            let secrets = [
                #""accessToken":""#, #""refreshToken":""#, firstAccess, firstRefresh, againAccess, againRefresh,
            ]
            let holding = rows.filter { row in secrets.contains { row.body.contains($0) } }
            #expect(holding.isEmpty, "rows holding tokens: \(holding.map { "\($0.scope)/\($0.key)" })")
            let row = try #require(rows.first(where: { $0.scope == "anonymous" && $0.key == key }), "no row for \(key)")
            #expect(row.signedInUser?.lowercased() == userID.lowercased(), "\(row)")
            #expect(row.status == 201, "\(row)")
            #expect(row.body.isEmpty, "a sign-in stores no body: \(row.body)")
        }
    }

    @Test("a replayed refresh never bypasses reuse detection")
    func replayedRefreshIsReuse() async throws {
        try await RunningSuite.run(overrides: Self.quickHashes, logsOnFailure: [.gateway]) { suite in
            let api = suite.gatewayURL + "/v1"
            let credentials =
                #"{"email":"\#(TestEnvironment.uniqueName("refresh-"))@example.com","password":"correct horse"}"#
            let registered = try await send("POST", "\(api)/auth/register", body: credentials)
            #expect(registered.status == 201, "\(registered.text)")
            let login = try await send("POST", "\(api)/auth/login", body: credentials)
            #expect(login.status == 200, "\(login.text)")
            let refresh = try #require(try json(login)["refreshToken"] as? String)

            let key = UUID().uuidString
            let headers = ["Content-Type": "application/json", "Idempotency-Key": key]
            let body = Array(#"{"refreshToken":"\#(refresh)"}"#.utf8)
            let first = try await http.send("POST", "\(api)/auth/refresh", headers: headers, body: body)
            #expect(first.status == 200, "\(first.text)")
            let rotated = try #require(try json(first)["refreshToken"] as? String)
            let again = try await http.send("POST", "\(api)/auth/refresh", headers: headers, body: body)
            try expectProblem(again, status: 401, "the same key runs the refresh again: \(again.text)")
            #expect((try json(again)["type"] as? String)?.hasSuffix("refresh-token-reused") == true, "\(again.text)")
            #expect(again.headers["idempotent-replayed"] == nil, "a refresh is never replayed")
            let revoked = try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(rotated)"}"#)
            try expectProblem(revoked, status: 401, "the reuse revoked the family: \(revoked.text)")
            #expect(try await idempotencyKeys().allSatisfy({ $0.key != key }), "a refresh stores nothing under its key")
        }
    }

    /// The fields a 422 names, with their messages.
    private func fieldErrors(_ response: HTTPResponse) throws -> [String: String] {
        let errors = try json(response)["errors"] as? [[String: Any]] ?? []
        return Dictionary(
            errors.compactMap { error in (error["field"] as? String).map { ($0, error["message"] as? String ?? "") } },
            uniquingKeysWith: { first, _ in first })
    }

    /// Every row of the gateway's `idempotency_keys`, read as the database superuser.
    private func idempotencyKeys() async throws -> [StoredIdempotencyKey] {
        let gateway = DatabasePool(
            connectionString: try TestEnvironment.adminDatabaseURL(database: "kindred_gateway"), size: 1,
            logger: TestEnvironment.logger("admin"))
        defer { gateway.close() }
        return try await gateway.withConnection { connection in
            try connection.execute(
                """
                SELECT scope, key, status, upper(signed_in_user::text) AS signed_in_user,
                       encode(body, 'base64') AS body
                FROM idempotency_keys
                """
            ).rows.map { row -> StoredIdempotencyKey in
                let body = row.string("body").flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) }
                return StoredIdempotencyKey(
                    scope: row.string("scope") ?? "", key: row.string("key") ?? "", status: row.int("status"),
                    signedInUser: row.string("signed_in_user"),
                    body: body.map { String(decoding: $0, as: UTF8.self) } ?? "")
            }
        }
    }
}
