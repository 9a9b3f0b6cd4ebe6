import Contracts
import Foundation
import OutboundHTTP
import TestSupport
import Testing

extension WalkingSkeletonTests {
    @Test("deleting an account answers 202 with a status URL, erases the profile, then the account")
    func accountDeletion() async throws {
        try await RunningSuite.run(overrides: [.gateway: ["KINDRED_BCRYPT_COST": "4"]]) { suite in
            let api = suite.gatewayURL + "/v1"
            let credentials =
                #"{"email":"\#(TestEnvironment.uniqueName("bye-"))@example.com","password":"correct horse"}"#
            let registered = try json(try await send("POST", "\(api)/auth/register", body: credentials))
            let token = try #require(registered["accessToken"] as? String)
            #expect(try await eventually { try await send("GET", "\(api)/profile/me", token: token).status == 200 })

            let accepted = try await send("DELETE", "\(api)/account", token: token)
            #expect(accepted.status == 202, "\(accepted.text)")
            let location = try #require(accepted.headers["location"])
            #expect(try json(accepted)["status"] as? String == "pending")
            let again = try await send("DELETE", "\(api)/account", token: token)
            #expect(again.headers["location"] == location, "a second request reports the same operation")

            var status: [String: Any] = [:]
            let completed = try await eventually {
                status = try json(try await send("GET", suite.gatewayURL + location, token: token))
                return status["status"] as? String == "completed"
            }
            #expect(completed, "\(status)")
            #expect(status["completedAt"] is String)
            try expectProblem(try await send("GET", "\(api)/profile/me", token: token), status: 404)
            try expectProblem(try await send("POST", "\(api)/auth/login", body: credentials), status: 401)
            try expectProblem(
                try await send("GET", "\(api)/operations/\(UUID().uuidString)", token: token), status: 404)
            // The address is free again.
            #expect(try await send("POST", "\(api)/auth/register", body: credentials).status == 201)
        }
    }
}
