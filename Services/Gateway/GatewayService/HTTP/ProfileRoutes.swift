import Contracts
import Foundation
import Hummingbird
import Messaging
import ServiceRuntime

/// `GET` and `PUT /v1/profile/me` (listed in `GatewayAPI`), answered by the profile service
/// through request events.
struct ProfileRoutes: Sendable {
    let requests: RequestReplyClient
    let authenticator: Authenticator
    /// The deadline of a route, by `METHOD path`.
    let deadline: @Sendable (String) -> Duration
    let now: @Sendable () -> Date

    static let bodyLimit = 16 * 1024

    func get(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        let reply = try await send(
            ProfileRequested(userId: userID), for: request, userID: userID, deadline: deadline("GET /v1/profile/me"))
        return try jsonResponse(reply.data.profile)
    }

    func put(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .profileUpdate)
        let update = ProfileUpdateRequested(
            userId: userID, displayName: body.string("displayName"), birthdate: body.string("birthdate"),
            gender: body.string("gender"), seeking: body.strings("seeking"), bio: body.string("bio"))
        guard body.errors.isEmpty else { throw Problem.validation(body.errors) }
        let reply = try await send(update, for: request, userID: userID, deadline: deadline("PUT /v1/profile/me"))
        return try jsonResponse(reply.data.profile)
    }

    private func send<Q: RequestEvent>(_ data: Q, for request: Request, userID: UUID, deadline: Duration)
        async throws
        -> Envelope<Q.Reply>
    {
        let envelope = Envelope(
            source: .gateway, time: now(), subject: userID.uuidString, data: data,
            correlationID: RequestID.of(request))
        do {
            return try await requests.request(envelope, timeout: deadline)
        } catch {
            throw Self.problem(for: error)
        }
    }

    /// How a failed request becomes an HTTP answer.
    static func problem(for error: RequestError) -> Problem {
        switch error {
        case .deadlineExceeded:
            return .timeout
        // What went wrong inside (broker addresses, decoding errors) is logged by the request
        // client, never shown to the caller.
        case .unavailable:
            return .unavailable("a service this needs cannot be reached")
        case .invalidReply:
            return Problem(
                status: .badGateway, type: "bad-reply", title: "A service answered wrongly",
                detail: "its answer could not be read")
        case .failed(let failure):
            switch failure.code {
            case .validationFailed:
                return .validation(failure.fieldErrors ?? [])
            case .notFound:
                return Problem(status: .notFound, type: "not-found", title: "Not found", detail: failure.detail)
            case .conflict:
                return Problem(status: .conflict, type: "conflict", title: "Conflict", detail: failure.detail)
            case .forbidden:
                return Problem(status: .forbidden, type: "forbidden", title: "Not allowed", detail: failure.detail)
            case .internalError:
                return Problem(
                    status: .badGateway, type: "upstream-error", title: "A service failed", detail: failure.detail)
            }
        }
    }
}

/// Reads the bearer token of a request.
struct Authenticator: Sendable {
    let tokens: AccessTokens
    let now: @Sendable () -> Date

    /// The user a middleware already verified, or the request's token checked now.
    func userID(of request: Request, context: KindredRequestContext) throws -> UUID {
        if let verified = context.verifiedUserID { return verified }
        return try userID(of: request)
    }

    func userID(of request: Request) throws -> UUID {
        try signedIn(request).userID
    }

    /// The signed-in user and token expiry a middleware already verified, or the request's
    /// token checked now.
    func signedIn(_ request: Request, context: KindredRequestContext) throws -> (userID: UUID, expiresAt: Date) {
        if let user = context.verifiedUserID, let expiry = context.verifiedTokenExpiry { return (user, expiry) }
        return try signedIn(request)
    }

    /// The user of the request's access token, and when that token runs out.
    func signedIn(_ request: Request) throws -> (userID: UUID, expiresAt: Date) {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw Problem.unauthenticated
        }
        // Spaces and tabs around the token are dropped (RFC 9110 OWS); a token has none inside.
        var token = header.dropFirst("Bearer ".count)
        while let first = token.first, first == " " || first == "\t" { token.removeFirst() }
        while let last = token.last, last == " " || last == "\t" { token.removeLast() }
        switch tokens.verify(String(token), now: now()) {
        case .success(let claims):
            guard let userID = UUID(uuidString: claims.sub) else { throw Problem.unauthenticated }
            return (userID, Date(timeIntervalSince1970: TimeInterval(claims.exp)))
        case .failure(.expired):
            throw Problem(
                status: .unauthorized, type: "token-expired", title: "The access token has expired",
                detail: "sign in again")
        case .failure:
            throw Problem(status: .unauthorized, type: "bad-token", title: "The access token is not valid")
        }
    }
}
