import Foundation
import HTTPTypes
import Hummingbird
import ServiceRuntime

/// Rate limits: per client address on `/v1/auth/*`, per signed-in user (or address, when
/// the request has no valid token) on the rest of `/v1`. Over the limit is 429 with
/// `Retry-After`.
///
/// The client address is the socket peer, or, when the peer is a trusted proxy, the
/// rightmost untrusted hop its forwarding header names (`TrustedProxies`); IPv6 clients
/// are grouped by their /64, which one subscriber usually holds whole.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = KindredRequestContext

    let auth: RateLimiter
    let api: RateLimiter
    let authenticator: Authenticator
    let proxies: TrustedProxies

    static let forwardedFor = HTTPField.Name.constant("X-Forwarded-For")
    static let forwarded = HTTPField.Name.constant("Forwarded")

    func clientKey(_ request: Request, context: Context) -> String {
        let address = proxies.clientAddress(
            peer: context.clientAddress, forwardedFor: request.headers[values: Self.forwardedFor],
            forwarded: request.headers[values: Self.forwarded])
        return address.map(rateLimitKey(for:)) ?? "ip:unknown"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // The route's own path, as registered (`/v1/auth/login`), never the request's
        // spelling of it: a limit must not depend on how a client writes the path.
        guard let path = context.endpointPath, path.hasPrefix("/v1/") else { return try await next(request, context) }
        var context = context
        let decision: RateLimiter.Decision
        if path.hasPrefix("/v1/auth/") {
            decision = auth.take(clientKey(request, context: context))
        } else if let (userID, expiry) = try? authenticator.signedIn(request) {
            context.verifiedUserID = userID
            context.verifiedTokenExpiry = expiry
            decision = api.take("user:\(userID.uuidString)")
        } else {
            decision = api.take(clientKey(request, context: context))
        }
        if case .limited(let retryAfter) = decision {
            throw Problem(
                status: .tooManyRequests, type: "rate-limited", title: "Too many requests",
                detail: "slow down and try again later", retryAfter: retryAfter)
        }
        return try await next(request, context)
    }
}

/// CORS for the browser origins in `KINDRED_CORS_ORIGINS`; any other origin gets no CORS
/// headers, so browsers keep its scripts out.
struct CORSAllowListMiddleware: RouterMiddleware {
    typealias Context = KindredRequestContext

    let allowedOrigins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) else {
            return try await next(request, context)
        }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
            response.headers[.accessControlMaxAge] = "600"
        } else {
            response = try await next(request, context)
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "X-Request-ID, Retry-After"
        response.headers[.vary] = "Origin"
        return response
    }
}
