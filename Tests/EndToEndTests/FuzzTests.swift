import Contracts
import Foundation
import OutboundHTTP
import TestSupport
import Testing

/// Random and malformed bodies for every route that reads one.
enum Garbage {
    static let fieldNames = [
        "email", "password", "displayName", "refreshToken", "birthdate", "gender", "seeking", "bio", "", "__proto__",
    ]

    static func value(_ random: inout SplitMix64, depth: Int = 0) -> Any {
        switch Int.random(in: 0..<(depth > 3 ? 6 : 8), using: &random) {
        case 0: return NSNull()
        case 1: return Bool.random(using: &random)
        case 2: return Int.random(in: Int.min...Int.max, using: &random)
        case 3: return Double.random(in: -1e300...1e300, using: &random)
        case 4: return string(&random)
        case 5:
            return ["woman", "man", "nonbinary", "1990-05-17", "2999-99-99", "a@b.co"].randomElement(using: &random)
                ?? ""
        case 6: return (0..<Int.random(in: 0..<5, using: &random)).map { _ in value(&random, depth: depth + 1) }
        default: return object(&random, depth: depth + 1)
        }
    }

    static func object(_ random: inout SplitMix64, depth: Int = 0) -> [String: Any] {
        var object: [String: Any] = [:]
        for _ in 0..<Int.random(in: 0..<6, using: &random) {
            let key = fieldNames.randomElement(using: &random) ?? "x"
            object[key] = value(&random, depth: depth)
        }
        return object
    }

    static func string(_ random: inout SplitMix64) -> String {
        let alphabet = Array("aZ09 @.-_\"\\/\u{0}\u{7f}é漢🙂\n\t")
        return String(
            (0..<Int.random(in: 0..<80, using: &random)).compactMap { _ in alphabet.randomElement(using: &random) })
    }

    static func body(_ random: inout SplitMix64) -> [UInt8] {
        switch Int.random(in: 0..<10, using: &random) {
        case 0:
            return (0..<Int.random(in: 0..<200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        case 1: return Array(String(repeating: "[", count: 5000).utf8)
        case 2: return Array(#"{"email": "a@b.co", "password": "#.utf8)
        case 3: return []
        case 4: return Array(String(repeating: "x", count: 70_000).utf8)
        default:
            let json = (try? JSONSerialization.data(withJSONObject: object(&random), options: [])) ?? Data()
            return Array(json)
        }
    }
}

extension WalkingSkeletonTests {
    @Test("random and malformed bodies on every route never produce a 5xx")
    func fuzzBodies() async throws {
        try await RunningSuite.run(overrides: [.gateway: ["KINDRED_BCRYPT_COST": "4"]], logsOnFailure: [.gateway]) {
            suite in
            let member = try json(
                try await send(
                    "POST", "\(suite.gatewayURL)/v1/auth/register",
                    body: #"{"email":"\#(TestEnvironment.uniqueName("fuzz-"))@example.com","password":"correct horse"}"#
                ))
            let token = try #require(member["accessToken"] as? String)
            let routes = [
                ("POST", "/v1/auth/register"), ("POST", "/v1/auth/login"), ("POST", "/v1/auth/guest"),
                ("POST", "/v1/auth/link"), ("POST", "/v1/auth/refresh"), ("POST", "/v1/auth/logout"),
                ("POST", "/v1/auth/logout-all"), ("PUT", "/v1/profile/me"),
            ]
            var random = SplitMix64(state: 20_261_122)
            var statuses: [Int: Int] = [:]
            for index in 0..<480 {
                let (method, path) = routes[index % routes.count]
                let body = Garbage.body(&random)
                var headers = ["Content-Type": "application/json"]
                if index % 2 == 0 { headers["Authorization"] = "Bearer \(token)" }
                let response = try await http.send(method, suite.gatewayURL + path, headers: headers, body: body)
                statuses[response.status, default: 0] += 1
                #expect(
                    response.status < 500,
                    "\(method) \(path) answered \(response.status) to \(String(decoding: body.prefix(200), as: UTF8.self)): \(response.text)"
                )
                if response.status >= 400 {
                    #expect(response.headers["content-type"] == "application/problem+json", "\(method) \(path)")
                }
            }
            #expect(
                statuses.keys.contains(400) && statuses.keys.contains(422) && statuses.keys.contains(413), "\(statuses)"
            )
        }
    }
}
