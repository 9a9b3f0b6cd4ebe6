import Contracts
import Foundation
import OutboundHTTP
import TestSupport
import Testing

extension WalkingSkeletonTests {
    @Test(
        "behind a trusted proxy each client has its own budget, and one account's failed logins are capped everywhere")
    func clientsBehindAProxy() async throws {
        try await RunningSuite.run(
            overrides: [
                .gateway: [
                    "KINDRED_BCRYPT_COST": "4", "KINDRED_TRUSTED_PROXIES": "127.0.0.1/32",
                    "KINDRED_RATE_LIMIT_AUTH_PER_MINUTE": "12", "KINDRED_LOGIN_FAILURES_PER_ACCOUNT": "10",
                ]
            ]
        ) { suite in
            let api = suite.gatewayURL + "/v1"
            let email = "\(TestEnvironment.uniqueName("proxied-"))@example.com"
            func login(from client: String, password: String) async throws -> HTTPResponse {
                try await http.send(
                    "POST", "\(api)/auth/login",
                    headers: ["Content-Type": "application/json", "X-Forwarded-For": "198.51.100.7, \(client)"],
                    body: Array(#"{"email":"\#(email)","password":"\#(password)"}"#.utf8))
            }
            let registered = try await http.send(
                "POST", "\(api)/auth/register",
                headers: ["Content-Type": "application/json", "X-Forwarded-For": "203.0.113.200"],
                body: Array(#"{"email":"\#(email)","password":"correct horse"}"#.utf8))
            #expect(registered.status == 201)

            // The address budget: 12 a minute per client, read from the proxy's header (the
            // client's own first entry, 198.51.100.7, is not where it comes from).
            var statuses: [Int] = []
            for _ in 0..<13 {
                statuses.append(
                    try await http.send(
                        "POST", "\(api)/auth/refresh",
                        headers: ["Content-Type": "application/json", "X-Forwarded-For": "198.51.100.7, 203.0.113.1"],
                        body: Array(#"{"refreshToken":"nope"}"#.utf8)
                    ).status)
            }
            #expect(statuses.filter { $0 == 401 }.count == 12)
            #expect(statuses.last == 429)
            let otherClient = try await http.send(
                "POST", "\(api)/auth/refresh",
                headers: ["Content-Type": "application/json", "X-Forwarded-For": "198.51.100.7, 203.0.113.2"],
                body: Array(#"{"refreshToken":"nope"}"#.utf8))
            #expect(otherClient.status == 401, "another client behind the same proxy has its own budget")

            // Ten wrong passwords from ten addresses lock the account for all of them.
            for index in 0..<10 {
                #expect(try await login(from: "192.0.2.\(index + 1)", password: "wrong password").status == 401)
            }
            let locked = try await login(from: "192.0.2.99", password: "wrong password")
            try expectProblem(locked, status: 429)
            #expect((try json(locked))["type"] as? String == "https://kindred.example/problems/too-many-failed-logins")
            #expect(locked.headers["retry-after"] != nil)
            try expectProblem(
                try await login(from: "192.0.2.100", password: "correct horse"), status: 429,
                "while locked, even the right password waits")
        }
    }
}
