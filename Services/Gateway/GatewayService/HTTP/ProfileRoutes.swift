import Contracts
import Foundation
import Hummingbird
import Messaging
import ServiceRuntime

/// The profile routes (listed in `GatewayAPI`), answered by the profile service through
/// request events: the own profile, its location, the attachment assessment, other
/// people's profiles (with signed URLs of their photos), reports and their moderation. The vocabulary and the questionnaire
/// are the contracts' own, answered here.
struct ProfileRoutes: Sendable {
    let requests: RequestReplyClient
    let authenticator: Authenticator
    /// Signs the URLs of the photos another user's profile shows.
    let links: PhotoLinkMinter
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

    /// `PUT` (`partial` false) and `PATCH` (`partial` true) of the own profile.
    func update(_ request: Request, context: KindredRequestContext, partial: Bool) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        var body = try await JSONBody.read(
            request, limit: Self.bodyLimit, documentedBy: partial ? .profilePatch : .profileUpdate)
        var update = ProfileUpdateRequested(
            userId: userID, displayName: body.string("displayName"), birthdate: body.string("birthdate"),
            gender: body.string("gender"), seeking: body.strings("seeking"), bio: body.string("bio"))
        update.interests = body.strings("interests")
        update.values = body.strings("values")
        update.relationshipIntent = body.string("relationshipIntent")
        update.heightCm = body.integer("heightCm")
        update.job = body.string("job")
        update.education = body.string("education")
        update.languages = body.strings("languages")
        update.timeZone = body.string("timeZone")
        update.visible = body.bool("visible")
        if var discovery = body.object("discovery", allowed: SchemaComponent.discoveryUpdate.propertyNames) {
            update.discovery = DiscoveryUpdate(
                ageMin: discovery.integer("ageMin"), ageMax: discovery.integer("ageMax"),
                maxDistanceKm: discovery.integer("maxDistanceKm"), genders: discovery.strings("genders"))
            body.merge(discovery)
        }
        if partial {
            update.partial = true
            let cleared = body.nullFields
            if !cleared.isEmpty { update.clear = cleared }
        }
        guard body.errors.isEmpty else { throw Problem.validation(body.errors) }
        let route = partial ? "PATCH /v1/profile/me" : "PUT /v1/profile/me"
        let reply = try await send(update, for: request, userID: userID, deadline: deadline(route))
        return try jsonResponse(reply.data.profile)
    }

    /// `PUT /v1/profile/me/location`: the point is snapped to its grid cell here and goes no
    /// further (not to the profile service, not to a log).
    func location(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .location)
        body.require("latitude", "longitude")
        let latitude = body.number("latitude")
        let longitude = body.number("longitude")
        if let latitude, !(-90.0...90.0).contains(latitude) { body.reject("latitude", "must be from -90 to 90") }
        if let longitude, !(-180.0...180.0).contains(longitude) { body.reject("longitude", "must be from -180 to 180") }
        guard body.errors.isEmpty, let latitude, let longitude,
            let cell = LocationGrid.cell(latitude: latitude, longitude: longitude)
        else { throw Problem.validation(body.errors) }
        let reply = try await send(
            LocationUpdateRequested(userId: userID, cell: cell), for: request, userID: userID,
            deadline: deadline("PUT /v1/profile/me/location"))
        return try jsonResponse(
            LocationAnswer(cellSizeKm: LocationGrid.cellSizeKm, updatedAt: reply.data.changedAt))
    }

    /// `GET /v1/profiles/{userId}`.
    func view(_ request: Request, context: KindredRequestContext, userID text: String) async throws -> Answer {
        let viewerID = try authenticator.userID(of: request, context: context)
        // Not a user id is the same 404 as an unknown user: no oracle in the path either.
        guard let userID = UUID(uuidString: text) else {
            throw Problem(status: .notFound, type: "not-found", title: "Not found", detail: "no such profile")
        }
        let reply = try await send(
            ProfileViewRequested(viewerId: viewerID, userId: userID), for: request, userID: viewerID,
            deadline: deadline("GET /v1/profiles/{userId}"))
        let profile = reply.data.profile
        return try jsonResponse(ProfileView(profile, photos: links.publicPhotos(profile.photoIds, now: now())))
    }

    /// `POST /v1/assessments/attachment`.
    func assess(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .attachmentAnswers)
        body.require("answers")
        let answers = body.integers("answers")
        guard body.errors.isEmpty, let answers else { throw Problem.validation(body.errors) }
        let reply = try await send(
            AttachmentAssessmentSubmitted(userId: userID, answers: answers), for: request, userID: userID,
            deadline: deadline("POST /v1/assessments/attachment"))
        let assessed = reply.data
        return try jsonResponse(
            AttachmentResult(
                anxiety: assessed.anxiety, avoidance: assessed.avoidance, style: assessed.style,
                explanation: assessed.explanation, takenAt: assessed.takenAt),
            status: .created)
    }

    /// `POST /v1/reports`.
    func report(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let reporterID = try authenticator.userID(of: request, context: context)
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .report)
        body.require("userId", "reason")
        let target = body.string("userId")
        let reason = body.string("reason")
        let detail = body.string("detail")
        let targetID = target.flatMap(UUID.init(uuidString:))
        if target != nil, targetID == nil { body.reject("userId", "must be a user id (UUID)") }
        guard body.errors.isEmpty, let targetID, let reason else { throw Problem.validation(body.errors) }
        let reply = try await send(
            ReportFiled(reporterId: reporterID, userId: targetID, reason: reason, detail: detail), for: request,
            userID: reporterID, deadline: deadline("POST /v1/reports"))
        return try jsonResponse(
            ReportAnswer(reportId: reply.data.reportId, status: "open", reportedAt: reply.data.reportedAt),
            status: .created)
    }

    /// `GET /v1/admin/reports?status=`: moderators only.
    func reports(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let moderatorID = try authenticator.moderator(of: request)
        let status = request.uri.queryParameters.get("status") ?? "open"
        let reply = try await send(
            ReportsListRequested(moderatorId: moderatorID, status: status), for: request, userID: moderatorID,
            deadline: deadline("GET /v1/admin/reports"))
        return try jsonResponse(ReportList(reports: reply.data.reports))
    }

    /// `POST /v1/admin/reports/{id}/decision`: moderators only.
    func decide(_ request: Request, context: KindredRequestContext, reportID text: String) async throws -> Answer {
        let moderatorID = try authenticator.moderator(of: request)
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .decision)
        body.require("action")
        let action = body.string("action")
        let note = body.string("note")
        guard body.errors.isEmpty, let action else { throw Problem.validation(body.errors) }
        guard let reportID = UUID(uuidString: text) else {
            throw Problem(status: .notFound, type: "not-found", title: "Not found", detail: "no such report")
        }
        let reply = try await send(
            ReportDecisionRequested(moderatorId: moderatorID, reportId: reportID, action: action, note: note),
            for: request, userID: moderatorID, deadline: deadline("POST /v1/admin/reports/{id}/decision"))
        return try jsonResponse(reply.data)
    }

    private func send<Q: RequestEvent>(_ data: Q, for request: Request, userID: UUID, deadline: Duration)
        async throws -> Envelope<Q.Reply>
    {
        try await requests.answer(data, for: request, userID: userID, at: now(), within: deadline)
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

    /// The signed-in user, who must hold the `moderator` role (403 otherwise).
    func moderator(of request: Request) throws -> UUID {
        let (userID, claims) = try verified(request)
        guard (claims.roles ?? []).contains(AccountRole.moderator.rawValue) else {
            throw Problem(
                status: .forbidden, type: "forbidden", title: "Not allowed", detail: "this needs the moderator role")
        }
        return userID
    }

    /// The signed-in user and token expiry a middleware already verified, or the request's
    /// token checked now.
    func signedIn(_ request: Request, context: KindredRequestContext) throws -> (userID: UUID, expiresAt: Date) {
        if let user = context.verifiedUserID, let expiry = context.verifiedTokenExpiry { return (user, expiry) }
        return try signedIn(request)
    }

    /// The user of the request's access token, and when that token runs out.
    func signedIn(_ request: Request) throws -> (userID: UUID, expiresAt: Date) {
        let (userID, claims) = try verified(request)
        return (userID, Date(timeIntervalSince1970: TimeInterval(claims.exp)))
    }

    /// The user of the request's access token, and its claims.
    private func verified(_ request: Request) throws -> (userID: UUID, claims: AccessTokens.Claims) {
        let claims = try verifiedClaims(of: request)
        guard let userID = UUID(uuidString: claims.sub) else { throw Problem.unauthenticated }
        return (userID, claims)
    }

    private func verifiedClaims(of request: Request) throws -> AccessTokens.Claims {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw Problem.unauthenticated
        }
        // Spaces and tabs around the token are dropped (RFC 9110 OWS); a token has none inside.
        var token = header.dropFirst("Bearer ".count)
        while let first = token.first, first == " " || first == "\t" { token.removeFirst() }
        while let last = token.last, last == " " || last == "\t" { token.removeLast() }
        switch tokens.verify(String(token), now: now()) {
        case .success(let claims):
            return claims
        case .failure(.expired):
            throw Problem(
                status: .unauthorized, type: "token-expired", title: "The access token has expired",
                detail: "sign in again")
        case .failure:
            throw Problem(status: .unauthorized, type: "bad-token", title: "The access token is not valid")
        }
    }
}
