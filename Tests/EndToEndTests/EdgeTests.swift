import Contracts
import Foundation
import OutboundHTTP
import TestSupport
import Testing

extension WalkingSkeletonTests {
    @Test("rate limits answer 429 with Retry-After; CORS answers only allowed origins")
    func edge() async throws {
        let overrides: [ServiceName: [String: String]] = [
            .gateway: [
                "KINDRED_RATE_LIMIT_AUTH_PER_MINUTE": "3", "KINDRED_RATE_LIMIT_API_PER_MINUTE": "5",
                "KINDRED_CORS_ORIGINS": "https://app.example.com, https://admin.example.com",
            ]
        ]
        try await RunningSuite.run(overrides: overrides, logsOnFailure: [.gateway]) { suite in
            let api = suite.gatewayURL + "/v1"
            let body = #"{"email":"nobody@example.com","password":"wrong horse"}"#
            var statuses: [Int] = []
            for _ in 0..<4 { statuses.append(try await send("POST", "\(api)/auth/login", body: body).status) }
            #expect(statuses == [401, 401, 401, 429])
            let limited = try await send("POST", "\(api)/auth/login", body: body)
            try expectProblem(limited, status: 429)
            #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)

            var apiStatuses: [Int] = []
            for _ in 0..<6 { apiStatuses.append(try await send("GET", "\(api)/profile/me").status) }
            #expect(apiStatuses == [401, 401, 401, 401, 401, 429])
            #expect(try await send("GET", "\(suite.gatewayURL)/health").status == 200, "health is never limited")

            let preflight = try await http.send(
                "OPTIONS", "\(api)/profile/me",
                headers: ["Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"])
            #expect(preflight.status == 204)
            #expect(preflight.headers["access-control-allow-origin"] == "https://app.example.com")
            #expect(preflight.headers["access-control-allow-methods"]?.contains("PUT") == true)
            let foreign = try await http.send(
                "GET", "\(suite.gatewayURL)/health", headers: ["Origin": "https://evil.example.com"])
            #expect(foreign.headers["access-control-allow-origin"] == nil)
        }
    }
}
