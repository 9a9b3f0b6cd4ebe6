import Foundation
import ServiceRuntime
import SignedURLs

/// The gateway's own settings, on top of `ServiceConfiguration`.
public struct GatewayConfiguration: Sendable {
    /// The keys access tokens are signed and checked with, by `kid`:
    /// `KINDRED_JWT_KEYS` (`kid:secret,kid:secret`, each secret at least 32 bytes) and/or
    /// `KINDRED_JWT_SECRET` (the key of `KINDRED_JWT_KEY_ID`). Tokens of every listed key are
    /// accepted, so a key is rotated by adding the new one, signing with it, and removing
    /// the old one after the token lifetime: nobody is signed out.
    public var jwtKeys: [String: String]
    /// `KINDRED_JWT_KEY_ID`, default `k1`: the `kid` of tokens signed now; one of `jwtKeys`.
    public var jwtKeyID: String
    /// `KINDRED_ACCESS_TOKEN_SECONDS`, default 900 (15 minutes).
    public var accessTokenSeconds: Int
    /// `KINDRED_REQUEST_TIMEOUT_MS`, default 5000: how long a route waits for an answer
    /// event before it answers 504.
    public var requestTimeoutMilliseconds: Int
    /// `KINDRED_ROUTE_TIMEOUTS_MS`, default none: deadlines of single routes, overriding the
    /// one above, as `GET /v1/profile/me=2000,PUT /v1/profile/me=8000`.
    public var routeTimeoutMilliseconds: [String: Int]
    /// `KINDRED_BCRYPT_COST`, default 12. Lower values exist for load and fault tests
    /// only, where hashing would otherwise be all the work.
    public var bcryptCost: Int

    /// `KINDRED_RATE_LIMIT_AUTH_PER_MINUTE`, default 10: requests per minute per client
    /// address on `/v1/auth/*`.
    public var authRequestsPerMinute: Int
    /// `KINDRED_RATE_LIMIT_API_PER_MINUTE`, default 100: requests per minute per user on the
    /// rest of the API.
    public var apiRequestsPerMinute: Int
    /// `KINDRED_CORS_ORIGINS`, default none: comma-separated browser origins allowed to call
    /// the API (`https://app.example.com`).
    public var corsOrigins: Set<String>
    /// `KINDRED_TRUSTED_PROXIES`, default none: comma-separated addresses or CIDR blocks of
    /// the proxies in front of the gateway (the ingress). Only from those peers is the
    /// client's address read from `KINDRED_TRUSTED_PROXY_HEADER` (`x-forwarded-for`, the
    /// default; `forwarded`; or `forwarded-else-x-forwarded-for`), as its rightmost hop that
    /// is not a trusted proxy.
    public var trustedProxies: TrustedProxies
    /// `KINDRED_LOGIN_FAILURES_PER_ACCOUNT`, default 10: failed logins per e-mail within 15
    /// minutes, from any address, after which that e-mail's logins answer 429.
    public var loginFailuresPerAccount: Int

    /// `KINDRED_SSE_HEARTBEAT_SECONDS`, default 15: comment lines on idle live streams.
    public var heartbeatSeconds: Int
    /// `KINDRED_LIVE_RETENTION_HOURS`, default 24: how long events are kept for streams that
    /// reconnect with `Last-Event-ID`.
    public var liveRetentionHours: Int
    /// `KINDRED_SSE_MAX_STREAMS_PER_USER`, default 5: open live streams per user on one
    /// gateway instance; one more is 429.
    public var maxStreamsPerUser: Int

    /// `KINDRED_MEDIA_URL_KEYS` (required, shared with media) and `KINDRED_MEDIA_URL_KEY_ID`
    /// (default `k1`): what signs the photo URLs answers carry.
    public var mediaURLSigner: MediaURLSigner
    /// `KINDRED_MEDIA_PUBLIC_URL`, default `http://127.0.0.1:8085` (media's local origin):
    /// where clients fetch photos, media itself or a CDN in front of it.
    public var mediaPublicURL: String
    /// `KINDRED_MEDIA_URL_SECONDS`, default 3600: how long a photo URL works.
    public var mediaURLSeconds: Int

    /// The deadline of one route (`GET /v1/profile/me`).
    public func deadline(of route: String) -> Duration {
        .milliseconds(routeTimeoutMilliseconds[route] ?? requestTimeoutMilliseconds)
    }

    public init(reader: inout EnvironmentReader) {
        jwtKeyID = reader.string("KINDRED_JWT_KEY_ID", default: "k1")
        jwtKeys = Self.readKeys(&reader, signingKeyID: jwtKeyID)
        accessTokenSeconds = reader.integer("KINDRED_ACCESS_TOKEN_SECONDS", default: 900, range: 60...3600)
        requestTimeoutMilliseconds = reader.integer("KINDRED_REQUEST_TIMEOUT_MS", default: 5000, range: 100...60000)
        routeTimeoutMilliseconds = [:]
        let routeTimeouts = reader.string("KINDRED_ROUTE_TIMEOUTS_MS", default: "")
        for entry in routeTimeouts.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let milliseconds = Int(parts[1]), (100...60000).contains(milliseconds),
                parts[0].split(separator: " ").count == 2
            else {
                reader.problem(
                    "KINDRED_ROUTE_TIMEOUTS_MS must look like 'GET /v1/profile/me=2000,PUT /v1/profile/me=8000' (100 to 60000 ms), not '\(entry)'"
                )
                continue
            }
            routeTimeoutMilliseconds[parts[0]] = milliseconds
        }
        bcryptCost = reader.integer("KINDRED_BCRYPT_COST", default: 12, range: 4...16)
        heartbeatSeconds = reader.integer("KINDRED_SSE_HEARTBEAT_SECONDS", default: 15, range: 1...300)
        liveRetentionHours = reader.integer("KINDRED_LIVE_RETENTION_HOURS", default: 24, range: 1...720)
        maxStreamsPerUser = reader.integer("KINDRED_SSE_MAX_STREAMS_PER_USER", default: 5, range: 1...100)
        authRequestsPerMinute = reader.integer(
            "KINDRED_RATE_LIMIT_AUTH_PER_MINUTE", default: 10, range: 1...1_000_000)
        apiRequestsPerMinute = reader.integer("KINDRED_RATE_LIMIT_API_PER_MINUTE", default: 100, range: 1...1_000_000)
        let proxyHeader = reader.string("KINDRED_TRUSTED_PROXY_HEADER", default: "x-forwarded-for")
        let headers: [String: TrustedProxies.Header] = [
            "x-forwarded-for": .xForwardedFor, "forwarded": .forwarded,
            "forwarded-else-x-forwarded-for": .forwardedElseXForwardedFor,
        ]
        if headers[proxyHeader] == nil {
            reader.problem(
                "KINDRED_TRUSTED_PROXY_HEADER must be one of x-forwarded-for, forwarded, forwarded-else-x-forwarded-for, not '\(proxyHeader)'"
            )
        }
        switch TrustedProxies.parse(
            reader.string("KINDRED_TRUSTED_PROXIES", default: ""), header: headers[proxyHeader] ?? .xForwardedFor)
        {
        case .success(let proxies): trustedProxies = proxies
        case .failure(let error):
            reader.problem("KINDRED_TRUSTED_PROXIES: \(error)")
            trustedProxies = .empty
        }
        loginFailuresPerAccount = reader.integer("KINDRED_LOGIN_FAILURES_PER_ACCOUNT", default: 10, range: 1...1000)
        mediaURLSigner = MediaURLSigner.configured(by: &reader)
        mediaPublicURL = reader.string("KINDRED_MEDIA_PUBLIC_URL", default: "http://127.0.0.1:8085")
        while mediaPublicURL.hasSuffix("/") { mediaPublicURL.removeLast() }
        let mediaURL = URL(string: mediaPublicURL)
        let isOrigin = ["http", "https"].contains(mediaURL?.scheme ?? "") && mediaURL?.host != nil
        if !isOrigin || mediaURL?.query != nil || mediaURL?.fragment != nil {
            reader.problem("KINDRED_MEDIA_PUBLIC_URL must be an http(s) URL without a query, not '\(mediaPublicURL)'")
        }
        mediaURLSeconds = reader.integer("KINDRED_MEDIA_URL_SECONDS", default: 3600, range: 60...86400)
        corsOrigins = Set(
            reader.string("KINDRED_CORS_ORIGINS", default: "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty })
    }

    /// The key set from `KINDRED_JWT_KEYS` and `KINDRED_JWT_SECRET`. No secret is ever echoed
    /// in a problem.
    static func readKeys(_ reader: inout EnvironmentReader, signingKeyID: String) -> [String: String] {
        var keys: [String: String] = [:]
        let listed = reader.environment["KINDRED_JWT_KEYS"] ?? ""
        for (index, entry) in listed.split(separator: ",", omittingEmptySubsequences: false).enumerated()
        where !listed.isEmpty {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            let kid = parts.first?.trimmingCharacters(in: .whitespaces) ?? ""
            guard parts.count == 2, !kid.isEmpty, kid.count <= 64,
                kid.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                reader.problem(
                    "KINDRED_JWT_KEYS entry \(index + 1) must look like kid:secret (kid of letters, digits, - and _)")
                continue
            }
            guard parts[1].utf8.count >= 32 else {
                reader.problem("KINDRED_JWT_KEYS: the secret of key '\(kid)' must be at least 32 bytes long")
                continue
            }
            guard keys[kid] == nil else {
                reader.problem("KINDRED_JWT_KEYS names key '\(kid)' twice")
                continue
            }
            keys[kid] = parts[1]
        }
        if let secret = reader.environment["KINDRED_JWT_SECRET"], !secret.isEmpty {
            if secret.utf8.count < 32 {
                reader.problem("KINDRED_JWT_SECRET must be at least 32 bytes long (the key that signs access tokens)")
            } else if let listedSecret = keys[signingKeyID], listedSecret != secret {
                reader.problem(
                    "KINDRED_JWT_SECRET and KINDRED_JWT_KEYS give key '\(signingKeyID)' different secrets; set one")
            } else {
                keys[signingKeyID] = secret
            }
        }
        if keys.isEmpty {
            reader.problem(
                "KINDRED_JWT_KEYS or KINDRED_JWT_SECRET is required (the keys that sign and check access tokens)")
        } else if keys[signingKeyID] == nil {
            reader.problem(
                "KINDRED_JWT_KEY_ID is '\(signingKeyID)', which is not a key of KINDRED_JWT_KEYS or KINDRED_JWT_SECRET")
        }
        return keys
    }
}
