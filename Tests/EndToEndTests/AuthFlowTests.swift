import Contracts
import Foundation
import Messaging
import OutboundHTTP
import TestSupport
import Testing

/// Every sign-in path of the gateway, against six real processes.
extension WalkingSkeletonTests {
    @Test("guests, linking, refresh rotation and reuse, logout, logout everywhere and suspension")
    func authFlows() async throws {
        var secrets: [String] = []
        let suite = try await RunningSuite.run { suite in secrets = try await exerciseAuth(suite.gatewayURL + "/v1") }
        // Passwords and tokens never reach a log line.
        for service in ServiceName.allCases {
            let log = suite.log(of: service)
            #expect(!log.isEmpty)
            for secret in secrets + ["correct horse"] {
                #expect(!log.contains(secret), "\(service.rawValue) logged a secret")
            }
        }
    }

    /// Returns the tokens it saw, to check that no log holds them.
    func exerciseAuth(_ api: String) async throws -> [String] {
        // The same Idempotency-Key and body replays the stored answer; another body is 422.
        let key = UUID().uuidString
        let idempotentBody =
            #"{"email":"\#(TestEnvironment.uniqueName("once-"))@example.com","password":"correct horse"}"#
        let headers = ["Content-Type": "application/json", "Idempotency-Key": key]
        let original = try await http.send(
            "POST", "\(api)/auth/register", headers: headers, body: Array(idempotentBody.utf8))
        let again = try await http.send(
            "POST", "\(api)/auth/register", headers: headers, body: Array(idempotentBody.utf8))
        #expect(original.status == 201)
        #expect(again.status == 201)
        // No token is stored: a replay signs the same user in again, with new tokens.
        let originalAnswer = try json(original)
        let replayedAnswer = try json(again)
        #expect(replayedAnswer["userId"] as? String == originalAnswer["userId"] as? String, "the same user")
        #expect(originalAnswer["userId"] is String && replayedAnswer["accessToken"] is String)
        #expect(replayedAnswer["accessToken"] as? String != originalAnswer["accessToken"] as? String, "new tokens")
        #expect(replayedAnswer["refreshToken"] as? String != originalAnswer["refreshToken"] as? String, "new tokens")
        #expect(again.headers["idempotent-replayed"] == "true")
        #expect(original.headers["idempotent-replayed"] == nil)
        let other = try await http.send(
            "POST", "\(api)/auth/register", headers: headers,
            body: Array(#"{"email":"someone-else@example.com","password":"correct horse"}"#.utf8))
        try expectProblem(other, status: 422)
        let withoutKey = try await send("POST", "\(api)/auth/register", body: idempotentBody)
        try expectProblem(withoutKey, status: 409)
        try expectProblem(
            try await http.send(
                "POST", "\(api)/auth/register", headers: ["Idempotency-Key": String(repeating: "k", count: 300)],
                body: Array(idempotentBody.utf8)), status: 422)

        // A guest signs in with a display name only; its profile starts with that name.
        let guest = try json(try await send("POST", "\(api)/auth/guest", body: #"{"displayName":"Mystery"}"#))
        let guestToken = try #require(guest["accessToken"] as? String)
        let guestRefresh = try #require(guest["refreshToken"] as? String)
        let userID = try #require(guest["userId"] as? String)
        var profile: HTTPResponse?
        #expect(
            try await eventually {
                profile = try await send("GET", "\(api)/profile/me", token: guestToken)
                return profile?.status == 200
            })
        #expect(try json(try #require(profile))["displayName"] as? String == "Mystery")
        try expectProblem(try await send("POST", "\(api)/auth/guest", body: #"{"displayName":""}"#), status: 422)

        // Linking keeps the user id, revokes the guest's refresh tokens, and the e-mail
        // then signs in; linking twice is a conflict.
        let email = "\(TestEnvironment.uniqueName("linked-"))@example.com"
        let credentials = #"{"email":"\#(email)","password":"correct horse"}"#
        try expectProblem(try await send("POST", "\(api)/auth/link", body: credentials), status: 401)
        let linkedResponse = try await send("POST", "\(api)/auth/link", token: guestToken, body: credentials)
        #expect(linkedResponse.status == 200, "\(linkedResponse.text)")
        let linked = try json(linkedResponse)
        #expect(linked["userId"] as? String == userID)
        try expectProblem(
            try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(guestRefresh)"}"#), status: 401)
        try expectProblem(try await send("POST", "\(api)/auth/link", token: guestToken, body: credentials), status: 409)
        let login = try json(try await send("POST", "\(api)/auth/login", body: credentials))
        #expect(login["userId"] as? String == userID)

        // Refresh rotates: the new token works once; the old one presented again revokes
        // the whole family, including the token that replaced it.
        let first = try #require(login["refreshToken"] as? String)
        let rotated = try json(try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(first)"}"#))
        let second = try #require(rotated["refreshToken"] as? String)
        #expect(second != first)
        #expect(rotated["accessToken"] is String)
        let reused = try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(first)"}"#)
        try expectProblem(reused, status: 401)
        #expect((try json(reused)["type"] as? String)?.hasSuffix("refresh-token-reused") == true)
        try expectProblem(
            try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(second)"}"#), status: 401)

        // Logout signs out this device's family only; logout everywhere signs out all.
        let deviceA = try json(try await send("POST", "\(api)/auth/login", body: credentials))
        let deviceB = try json(try await send("POST", "\(api)/auth/login", body: credentials))
        let refreshA = try #require(deviceA["refreshToken"] as? String)
        let refreshB = try #require(deviceB["refreshToken"] as? String)
        #expect(try await send("POST", "\(api)/auth/logout", body: #"{"refreshToken":"\#(refreshA)"}"#).status == 204)
        try expectProblem(
            try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(refreshA)"}"#), status: 401)
        let stillB = try json(try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(refreshB)"}"#))
        let refreshB2 = try #require(stillB["refreshToken"] as? String)
        let accessB = try #require(stillB["accessToken"] as? String)
        #expect(try await send("POST", "\(api)/auth/logout-all", token: accessB).status == 204)
        try expectProblem(
            try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(refreshB2)"}"#), status: 401)
        try expectProblem(
            try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"garbage"}"#), status: 401)

        // A UserSuspended event (as the profile service or an operator publishes it) stops
        // the user signing in and refreshing.
        let beforeSuspension = try json(try await send("POST", "\(api)/auth/login", body: credentials))
        let lastRefresh = try #require(beforeSuspension["refreshToken"] as? String)
        try await suspend(userID)
        var refused: HTTPResponse?
        #expect(
            try await eventually {
                refused = try await send("POST", "\(api)/auth/login", body: credentials)
                return refused?.status == 403
            })
        try expectProblem(try #require(refused), status: 403)
        let refreshRefused = try await send("POST", "\(api)/auth/refresh", body: #"{"refreshToken":"\#(lastRefresh)"}"#)
        #expect([401, 403].contains(refreshRefused.status), "\(refreshRefused.text)")
        return [guestToken, guestRefresh, first, second, refreshA, refreshB, accessB, lastRefresh]
    }
}
