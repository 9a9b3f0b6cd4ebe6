import Contracts
import Foundation
import Messaging
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import GatewayService

@Suite("Access tokens")
struct AccessTokenTests {
    let now = Date(timeIntervalSince1970: 1_795_348_800)
    let userID = UUID()
    let secret = String(repeating: "s", count: 32)

    @Test("a token verifies until it expires after 15 minutes")
    func lifetime() throws {
        let tokens = AccessTokens(keys: ["k1": secret], signingKeyID: "k1", lifetimeSeconds: 900)
        let token = tokens.issue(userID: userID, now: now)
        let claims = try tokens.verify(token, now: now.addingTimeInterval(899)).get()
        #expect(claims.sub == userID.uuidString)
        #expect(claims.exp - claims.iat == 900)
        #expect(tokens.verify(token, now: now.addingTimeInterval(900)) == .failure(.expired))
    }

    @Test("a tampered token, a foreign key and garbage are refused")
    func refused() {
        let tokens = AccessTokens(keys: ["k1": secret], signingKeyID: "k1", lifetimeSeconds: 900)
        let token = tokens.issue(userID: userID, now: now)
        var parts = token.split(separator: ".").map(String.init)
        let otherClaims = AccessTokens.base64URL(Data(#"{"sub":"someone-else","exp":9999999999}"#.utf8))
        parts[1] = otherClaims
        #expect(tokens.verify(parts.joined(separator: "."), now: now) == .failure(.badSignature))
        let stranger = AccessTokens(keys: ["k9": secret], signingKeyID: "k9", lifetimeSeconds: 900)
        #expect(tokens.verify(stranger.issue(userID: userID, now: now), now: now) == .failure(.unknownKey))
        #expect(tokens.verify("not.a.token", now: now) == .failure(.malformed))
        #expect(tokens.verify("", now: now) == .failure(.malformed))
    }

    @Test("a token verified once is remembered: it still expires on time, and a copy with another signature is refused")
    func remembered() throws {
        let tokens = AccessTokens(keys: ["k1": secret], signingKeyID: "k1", lifetimeSeconds: 900)
        let token = tokens.issue(userID: userID, now: now)
        for offset in [0.0, 10, 899] {
            #expect(try tokens.verify(token, now: now.addingTimeInterval(offset)).get().sub == userID.uuidString)
        }
        #expect(tokens.verify(token, now: now.addingTimeInterval(900)) == .failure(.expired))
        var parts = token.split(separator: ".").map(String.init)
        parts[2] = AccessTokens.base64URL(Data(repeating: 0xFB, count: 32))
        #expect(parts[2].contains("-") || parts[2].contains("_"))
        #expect(tokens.verify(parts.joined(separator: "."), now: now) == .failure(.badSignature))
        #expect(AccessTokens.decodeBase64URL(Substring(parts[2])) == Data(repeating: 0xFB, count: 32))
    }

    @Test("after a key rotation, tokens of the previous key stay valid")
    func rotation() throws {
        let old = AccessTokens(keys: ["k1": secret], signingKeyID: "k1", lifetimeSeconds: 900)
        let rotated = AccessTokens(
            keys: ["k1": secret, "k2": String(repeating: "t", count: 32)], signingKeyID: "k2", lifetimeSeconds: 900)
        #expect(throws: Never.self) { try rotated.verify(old.issue(userID: userID, now: now), now: now).get() }
        #expect(old.verify(rotated.issue(userID: userID, now: now), now: now) == .failure(.unknownKey))
    }
}

@Suite("Credentials")
struct CredentialTests {
    @Test("e-mails are normalised; short passwords and bad addresses are named")
    func rules() throws {
        let valid = try Credentials.validate(email: "  Ada@Example.COM ", password: "correct horse").get()
        #expect(valid.email == "ada@example.com")
        guard case .failure(let invalid) = Credentials.validate(email: "ada@", password: "short") else {
            Issue.record("accepted invalid credentials")
            return
        }
        #expect(invalid.errors.map(\.field) == ["email", "password"])
        guard case .failure(let missing) = Credentials.validate(email: nil, password: nil) else {
            Issue.record("accepted missing credentials")
            return
        }
        #expect(missing.errors.map(\.message) == ["is required", "is required"])
        let longest = String(repeating: "p", count: 73)
        #expect((try? Credentials.validate(email: "a@b.co", password: longest).get()) == nil)
    }
}

@Suite("Failures become problems")
struct ProblemMappingTests {
    @Test("each request failure maps to its HTTP status")
    func statuses() {
        #expect(ServiceRequests.problem(for: .deadlineExceeded).statusCode == 504)
        #expect(ServiceRequests.problem(for: .unavailable("broker down")).statusCode == 503)
        #expect(ServiceRequests.problem(for: .unavailable("broker down")).retryAfter == 5)
        #expect(ServiceRequests.problem(for: .invalidReply("?")).statusCode == 502)
        let invalid = RequestFailed(
            code: .validationFailed, detail: "bad", fieldErrors: [FieldError(field: "gender", message: "no")])
        let problem = ServiceRequests.problem(for: .failed(invalid))
        #expect(problem.statusCode == 422)
        #expect(problem.errors == [FieldError(field: "gender", message: "no")])
        #expect(ServiceRequests.problem(for: .failed(RequestFailed(code: .notFound, detail: ""))).statusCode == 404)
    }

    @Test("a problem document has the RFC 9457 members")
    func document() throws {
        let json = String(
            decoding: try KindredJSON.encoder().encode(Problem.validation([FieldError(field: "email", message: "x")])),
            as: UTF8.self)
        #expect(json.contains(#""status":422"#))
        #expect(json.contains(#""title":"Some fields are invalid""#))
        #expect(json.contains(#""type":"https://kindred.example/problems/validation""#))
        #expect(json.contains(#""errors":[{"field":"email","message":"x"}]"#))
    }
}

@Suite("Refresh tokens")
struct RefreshTokenTests {
    let now = Date(timeIntervalSince1970: 1_795_348_800)

    @Test("tokens are random and stored only as their hash")
    func minting() {
        let (token, hash) = RefreshTokens.mint()
        #expect(token.count >= 43)
        #expect(hash == RefreshTokens.hash(token))
        #expect(hash.count == 64)
        #expect(!hash.contains(token))
        #expect(RefreshTokens.mint().token != token)
    }

    @Test("a token rotates once, then counts as reused; expired, revoked and unknown ones are refused")
    func verdicts() {
        let expires = now.addingTimeInterval(RefreshTokens.lifetime)
        #expect(
            RefreshTokens.verdict(found: true, usedAt: nil, revokedAt: nil, expiresAt: expires, now: now) == .rotate)
        #expect(
            RefreshTokens.verdict(found: true, usedAt: now, revokedAt: nil, expiresAt: expires, now: now) == .reused)
        #expect(
            RefreshTokens.verdict(found: true, usedAt: nil, revokedAt: now, expiresAt: expires, now: now) == .revoked)
        #expect(
            RefreshTokens.verdict(
                found: true, usedAt: nil, revokedAt: nil, expiresAt: expires, now: expires.addingTimeInterval(1))
                == .expired)
        #expect(RefreshTokens.verdict(found: false, usedAt: nil, revokedAt: nil, expiresAt: nil, now: now) == .unknown)
    }
}

@Suite("Rate limiter")
struct RateLimiterTests {
    @Test("a key gets its budget, is told when to come back, and refills with time")
    func buckets() {
        let clock = ManualClock()
        let limiter = RateLimiter(limitPerMinute: 6, now: { clock.now })
        for _ in 0..<6 { #expect(limiter.take("a") == .allowed) }
        #expect(limiter.take("a") == .limited(retryAfter: 10))
        #expect(limiter.take("b") == .allowed, "keys are independent")
        clock.advance(10)
        #expect(limiter.take("a") == .allowed)
        #expect(limiter.take("a") == .limited(retryAfter: 10))
        clock.advance(600)
        for _ in 0..<6 { #expect(limiter.take("a") == .allowed) }
        #expect(limiter.take("a") != .allowed, "a long wait refills to the limit, not beyond")
    }
}

@Suite("Gateway configuration")
struct GatewayConfigurationTests {
    @Test("deadlines are set per route, falling back to the default; a malformed entry is named")
    func routeDeadlines() throws {
        var reader = EnvironmentReader([
            "KINDRED_JWT_SECRET": String(repeating: "s", count: 32), "KINDRED_REQUEST_TIMEOUT_MS": "3000",
            "KINDRED_MEDIA_URL_KEYS": "k1:" + String(repeating: "ab", count: 32),
            "KINDRED_ROUTE_TIMEOUTS_MS": "GET /v1/profile/me=1500, PUT /v1/profile/me=9000",
        ])
        let configuration = GatewayConfiguration(reader: &reader)
        try reader.validate()
        #expect(configuration.deadline(of: "GET /v1/profile/me") == .milliseconds(1500))
        #expect(configuration.deadline(of: "PUT /v1/profile/me") == .milliseconds(9000))
        #expect(configuration.deadline(of: "GET /v1/other") == .milliseconds(3000))
        var broken = EnvironmentReader([
            "KINDRED_JWT_SECRET": String(repeating: "s", count: 32), "KINDRED_ROUTE_TIMEOUTS_MS": "GET=fast",
            "KINDRED_MEDIA_URL_KEYS": "k1:" + String(repeating: "ab", count: 32),
        ])
        _ = GatewayConfiguration(reader: &broken)
        #expect(throws: ConfigurationError.self) { try broken.validate() }
    }

    @Test("photo URLs: the keys are required, the public base is an http(s) origin, the lifetime bounded")
    func mediaSettings() throws {
        let secret = String(repeating: "s", count: 32)
        var reader = EnvironmentReader([
            "KINDRED_JWT_SECRET": secret, "KINDRED_MEDIA_URL_KEYS": "k1:" + String(repeating: "ab", count: 32),
            "KINDRED_MEDIA_PUBLIC_URL": "https://cdn.example.com/",
        ])
        let configuration = GatewayConfiguration(reader: &reader)
        try reader.validate()
        #expect(configuration.mediaPublicURL == "https://cdn.example.com")
        #expect(configuration.mediaURLSeconds == 3600)
        for (environment, named) in [
            (["KINDRED_JWT_SECRET": secret], "KINDRED_MEDIA_URL_KEYS"),
            (
                [
                    "KINDRED_JWT_SECRET": secret, "KINDRED_MEDIA_URL_KEYS": "k1:" + String(repeating: "ab", count: 32),
                    "KINDRED_MEDIA_PUBLIC_URL": "ftp://media?x=1",
                ], "KINDRED_MEDIA_PUBLIC_URL"
            ),
            (["KINDRED_JWT_SECRET": secret, "KINDRED_MEDIA_URL_KEYS": "k1:abcd"], "KINDRED_MEDIA_URL_KEYS"),
        ] {
            var broken = EnvironmentReader(environment)
            _ = GatewayConfiguration(reader: &broken)
            #expect(throws: ConfigurationError.self) { try broken.validate() }
            #expect(broken.problems.contains { $0.contains(named) }, "\(broken.problems)")
        }
    }
}

@Suite("Live event data")
struct LiveEventDataTests {
    @Test("the data line is the envelope's data as the service wrote it, the same as re-encoding it")
    func passedOnAsWritten() throws {
        var document = ProfileUpdated.example.profile
        document.bio = "Line one\nline two, \"quoted\", a/b, é ✓ 🎉"
        let envelope = Envelope(
            source: .profile, time: Date(), subject: document.userId.uuidString,
            data: ProfileUpdated(profile: document, sequence: 4), correlationID: "c")
        let body = try EnvelopeCodec().encode(envelope)
        let data = try #require(LiveEventListener.data(of: body))
        #expect(data == LiveEventListener.reencodedData(of: body))
        #expect(!data.contains("\n"))
        #expect(LiveEvent(id: "1", type: "ProfileUpdated", userID: document.userId, data: data).frame.hasSuffix("\n\n"))
    }

    @Test("a pretty-printed envelope is written again on one line; one without data gives none")
    func otherShapes() throws {
        let pretty = Array("{\n  \"data\" : {\n    \"b\" : 1,\n    \"a\" : [ 2 ]\n  },\n  \"type\" : \"X\"\n}".utf8)
        #expect(LiveEventListener.data(of: pretty) == #"{"a":[2],"b":1}"#)
        #expect(LiveEventListener.data(of: Array(#"{"type":"X"}"#.utf8)) == nil)
        #expect(LiveEventListener.data(of: Array(#"{"data":1"#.utf8)) == nil)
        // Deeper than the scanner goes, still JSON: written again by Foundation.
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(LiveEventListener.data(of: Array(#"{"data":\#(deep)}"#.utf8)) == deep)
    }
}
