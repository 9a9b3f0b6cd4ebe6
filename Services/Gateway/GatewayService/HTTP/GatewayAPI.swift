import Contracts
import Foundation
import Hummingbird
import ServiceRuntime

/// What serves the gateway's routes, made once at start-up (`GatewayService.build`).
struct GatewayEndpoints: Sendable {
    let auth: AuthRoutes
    let idempotency: Idempotency
    let profile: ProfileRoutes
    let events: EventStreamRoute
    let account: AccountRoutes
    let media: MediaRoutes

    /// Runs a POST route under its `Idempotency-Key`, if it carries one; `limit` is its body limit.
    func idempotent(
        _ request: Request, _ context: KindredRequestContext, replay: Idempotency.Replay = .storedAnswer,
        limit: Int = AuthRoutes.bodyLimit, _ handler: @Sendable (Request) async throws -> Answer
    ) async throws -> Response {
        try await idempotency.run(request, context: context, limit: limit, replay: replay, handler)
    }

    /// The same for a route that needs a signed-in user (`moderator`: one with that role),
    /// checked before the key is claimed or the body read: a caller without a valid token
    /// stores nothing.
    func signedInIdempotent(
        _ request: Request, _ context: KindredRequestContext, moderator: Bool = false, limit: Int,
        _ handler: @Sendable (Request) async throws -> Answer
    ) async throws -> Response {
        if moderator {
            _ = try profile.authenticator.moderator(of: request)
        } else {
            _ = try profile.authenticator.userID(of: request, context: context)
        }
        return try await idempotency.run(request, context: context, limit: limit, handler)
    }
}

/// Every route of the gateway, once: the router is built from this table and so is the
/// OpenAPI document (`OpenAPIDocument`). A new route is a new entry here.
enum GatewayAPI {
    typealias Route = RouteTable<GatewayEndpoints>.Route

    static let table = RouteTable<GatewayEndpoints>(
        [
            register, login, guest, link, refresh, logout, logoutEverywhere, profileRead, profileReplace,
            profilePatch, profileLocation, profileView, vocabulary, questionnaire, assessment, reportFiling,
            reportList, reportDecision, photoUpload, photoList, photoRead, photoOrder, photoRemoval, photoReviewList,
            photoDecision, events, accountDeletion, operationStatus, openAPI,
        ] + OperationalRoutes.documentedProbes(of: GatewayEndpoints.self))

    // MARK: What many routes answer

    /// What every `/v1` route may answer besides its own: rate limits, a dependency away.
    private static let limits: [RouteResponse] = [
        .problem(
            .tooManyRequests, "Rate limited; see `Retry-After`.", types: ["rate-limited"], headers: ["Retry-After"]),
        .problem(
            .serviceUnavailable, "A dependency is unavailable; see `Retry-After`.", types: ["unavailable"],
            headers: ["Retry-After"]),
    ]

    /// What a route that needs an access token answers without a valid one.
    private static let unauthorized = RouteResponse.problem(
        .unauthorized, "No valid access token.", types: ["unauthenticated", "bad-token", "token-expired"])

    /// The answers of a `/v1` route: its own (which win over the shared ones of a status), then `limits`.
    private static func api(_ own: [RouteResponse]) -> [RouteResponse] { own + limits }

    /// The answers of a `/v1` route that needs an access token.
    private static func signedIn(_ own: [RouteResponse]) -> [RouteResponse] { own + [unauthorized] + limits }

    private static let idempotencyKey = RouteParameter(
        "Idempotency-Key", in: .header, required: false,
        description: """
            The same key and body replay the first answer (sign-ins answer with fresh tokens; guest and refresh \
            ignore the key); another body is 422, a key whose request still runs is 409.
            """,
        maxLength: 255)

    private static let suspended = RouteResponse.problem(
        .forbidden, "The account is suspended or being deleted.", types: ["account-suspended"])

    private static let noAnswer = RouteResponse.problem(
        .gatewayTimeout, "The profile service did not answer in time.", types: ["timeout"])

    private static let badAnswer = RouteResponse.problem(
        .badGateway, "A service failed or answered wrongly.", types: ["upstream-error", "bad-reply"])

    // MARK: The routes

    private static let register = Route(
        .post, "/v1/auth/register", summary: "Register with e-mail and password", tag: "auth",
        parameters: [idempotencyKey], body: .credentials,
        responses: api([
            .json(.created, "Signed in.", .tokens),
            .problem(.conflict, "The e-mail is taken.", types: ["email-taken"]),
        ])
    ) { endpoints, request, context in
        try await endpoints.idempotent(
            request, context, replay: endpoints.auth.signInReplay, endpoints.auth.register)
    }

    private static let login = Route(
        .post, "/v1/auth/login", summary: "Sign in", tag: "auth", parameters: [idempotencyKey], body: .credentials,
        responses: api([
            .json(.ok, "Signed in.", .tokens),
            .problem(.unauthorized, "Wrong e-mail or password.", types: ["bad-credentials"]),
            suspended,
            .problem(
                .tooManyRequests, "Rate limited, or too many failed logins for this e-mail; see `Retry-After`.",
                types: ["rate-limited", "too-many-failed-logins"], headers: ["Retry-After"]),
        ])
    ) { endpoints, request, context in
        try await endpoints.idempotent(request, context, replay: endpoints.auth.signInReplay, endpoints.auth.login)
    }

    private static let guest = Route(
        .post, "/v1/auth/guest", summary: "Start a guest account", tag: "auth", parameters: [idempotencyKey],
        body: .guest, responses: api([.json(.created, "Signed in as a guest.", .tokens)])
    ) { endpoints, request, context in
        try await endpoints.idempotent(request, context, replay: .never, endpoints.auth.guest)
    }

    private static let link = Route(
        .post, "/v1/auth/link", summary: "Give a guest account an e-mail and password (same user id)",
        tag: "auth", security: .bearer, parameters: [idempotencyKey], body: .credentials,
        responses: signedIn([
            .json(.ok, "Signed in.", .tokens),
            .problem(.conflict, "Not a guest, or the e-mail is taken.", types: ["not-a-guest", "email-taken"]),
        ])
    ) { endpoints, request, context in
        try await endpoints.idempotent(request, context, replay: endpoints.auth.signInReplay, endpoints.auth.link)
    }

    private static let refresh = Route(
        .post, "/v1/auth/refresh", summary: "Rotate a refresh token", tag: "auth", parameters: [idempotencyKey],
        body: .refresh,
        responses: api([
            .json(.ok, "Signed in.", .tokens),
            .problem(
                .unauthorized, "Unknown, expired, revoked or reused refresh token (reuse revokes its family).",
                types: ["bad-refresh-token", "refresh-token-reused"]),
            suspended,
        ])
    ) { endpoints, request, context in
        try await endpoints.idempotent(request, context, replay: .never, endpoints.auth.refresh)
    }

    private static let logout = Route(
        .post, "/v1/auth/logout", summary: "Sign this device out", tag: "auth", parameters: [idempotencyKey],
        body: .refresh, responses: api([.described(.noContent, "Signed out.")])
    ) { endpoints, request, context in
        try await endpoints.idempotent(request, context, replay: .storedAnswer, endpoints.auth.logout)
    }

    private static let logoutEverywhere = Route(
        .post, "/v1/auth/logout-all", summary: "Sign out everywhere", tag: "auth", security: .bearer,
        responses: signedIn([.described(.noContent, "Every refresh token revoked.")])
    ) { endpoints, request, context in
        try await endpoints.idempotent(request, context, replay: .storedAnswer, endpoints.auth.logoutEverywhere)
    }

    private static let profileRead = Route(
        .get, "/v1/profile/me", summary: "The signed-in user's profile", tag: "profile", security: .bearer,
        responses: signedIn([
            .json(.ok, "The profile.", .profile),
            .problem(.notFound, "No profile yet.", types: ["not-found"]),
            noAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.profile.get(request, context: context)
    }

    private static let profileReplace = Route(
        .put, "/v1/profile/me", summary: "Replace the editable fields of the profile", tag: "profile",
        security: .bearer, body: .profileUpdate,
        responses: signedIn([.json(.ok, "The new profile.", .profile), noAnswer, badAnswer])
    ) { endpoints, request, context in
        try await endpoints.profile.update(request, context: context, partial: false)
    }

    private static let profilePatch = Route(
        .patch, "/v1/profile/me", summary: "Change some fields of the profile (`null` clears an optional one)",
        tag: "profile", security: .bearer, body: .profilePatch,
        responses: signedIn([.json(.ok, "The new profile.", .profile), noAnswer, badAnswer])
    ) { endpoints, request, context in
        try await endpoints.profile.update(request, context: context, partial: true)
    }

    private static let profileLocation = Route(
        .put, "/v1/profile/me/location", summary: "Set where the user is (kept only as a grid cell of about 1 km)",
        tag: "profile", security: .bearer, body: .location,
        responses: signedIn([
            .json(.ok, "Kept as its cell.", .locationAnswer),
            .problem(
                .tooManyRequests, "At most one change a minute, or rate limited; see `Retry-After`.",
                types: ["limit-reached", "rate-limited"], headers: ["Retry-After"]),
            .problem(.notFound, "No profile yet.", types: ["not-found"]),
            noAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.profile.location(request, context: context)
    }

    private static let profileView = Route(
        .get, "/v1/profiles/{userId}", summary: "Another user's profile: an age, a distance band", tag: "profile",
        security: .bearer, parameters: [RouteParameter("userId", in: .path, required: true, format: "uuid")],
        responses: signedIn([
            .json(.ok, "The profile as others see it.", .publicProfile),
            .problem(
                .notFound, "No such profile, or not one the viewer may see (the same answer whatever the reason).",
                types: ["not-found"]),
            noAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.profile.view(request, context: context, userID: context.parameters.get("userId") ?? "")
    }

    private static let vocabulary = Route(
        .get, "/v1/vocabulary", summary: "Interests, value statements, intents, genders and languages",
        tag: "profile", responses: api([.json(.ok, "The vocabularies.", .vocabulary)])
    ) { _, _, _ in
        try jsonResponse(VocabularyDocument.current)
    }

    private static let questionnaire = Route(
        .get, "/v1/assessments/attachment", summary: "The attachment questionnaire (18 items, ECR-R)",
        tag: "assessments", security: .bearer,
        responses: signedIn([.json(.ok, "The items, in answer order.", .questionnaire)])
    ) { endpoints, request, context in
        _ = try endpoints.profile.authenticator.userID(of: request, context: context)
        return try jsonResponse(AttachmentQuestionnaireDocument.current)
    }

    private static let assessment = Route(
        .post, "/v1/assessments/attachment", summary: "Answer the attachment questionnaire (retakes allowed)",
        tag: "assessments", security: .bearer, parameters: [idempotencyKey], body: .attachmentAnswers,
        responses: signedIn([
            .json(.created, "Scored; the latest assessment counts.", .attachmentResult),
            .problem(.notFound, "No profile yet.", types: ["not-found"]),
            noAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.signedInIdempotent(request, context, limit: ProfileRoutes.bodyLimit) {
            try await endpoints.profile.assess($0, context: context)
        }
    }

    private static let reportFiling = Route(
        .post, "/v1/reports", summary: "Report a user", tag: "safety", security: .bearer,
        parameters: [idempotencyKey], body: .report,
        responses: signedIn([
            .json(.created, "Filed.", .reportAnswer),
            .problem(.notFound, "No such user.", types: ["not-found"]),
            .problem(.conflict, "An open report about this user already exists.", types: ["conflict"]),
            .problem(
                .tooManyRequests, "At most 10 reports a day, or rate limited; see `Retry-After`.",
                types: ["limit-reached", "rate-limited"], headers: ["Retry-After"]),
            noAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.signedInIdempotent(request, context, limit: ProfileRoutes.bodyLimit) {
            try await endpoints.profile.report($0, context: context)
        }
    }

    private static let notModerator = RouteResponse.problem(
        .forbidden, "The account does not have the moderator role.", types: ["forbidden"])

    private static let reportList = Route(
        .get, "/v1/admin/reports", summary: "Reports, oldest first (moderators)", tag: "moderation",
        security: .bearer,
        parameters: [
            RouteParameter(
                "status", in: .query, required: false,
                description: "`open` (the default), `dismissed`, `actioned` or `all`")
        ],
        responses: signedIn([.json(.ok, "At most 200 reports.", .reportList), notModerator, noAnswer, badAnswer])
    ) { endpoints, request, context in
        try await endpoints.profile.reports(request, context: context)
    }

    private static let reportDecision = Route(
        .post, "/v1/admin/reports/{id}/decision", summary: "Decide a report (moderators)", tag: "moderation",
        security: .bearer,
        parameters: [RouteParameter("id", in: .path, required: true, format: "uuid"), idempotencyKey],
        body: .decision,
        responses: signedIn([
            .json(.ok, "Decided; the audit keeps the note.", .decided),
            notModerator,
            .problem(.notFound, "No such report.", types: ["not-found"]),
            .problem(.conflict, "The report was already decided.", types: ["conflict"]),
            noAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.signedInIdempotent(request, context, moderator: true, limit: ProfileRoutes.bodyLimit) {
            try await endpoints.profile.decide($0, context: context, reportID: context.parameters.get("id") ?? "")
        }
    }

    private static let noMediaAnswer = RouteResponse.problem(
        .gatewayTimeout, "The media service did not answer in time.", types: ["timeout"])

    private static let photoID = RouteParameter("id", in: .path, required: true, format: "uuid")

    private static let photoUpload = Route(
        .post, "/v1/media/photos", summary: "Upload a photo (JPEG, PNG or WebP; its metadata is stripped)",
        tag: "media", security: .bearer, parameters: [idempotencyKey],
        upload: RouteUpload(
            mediaTypes: PhotoUpload.imageTypes, formField: "photo", maxBytes: PhotoLimits.maxUploadBytes),
        responses: signedIn([
            .json(
                .accepted, "Taken; processing. `Location` is the photo; its outcome also reaches `GET /v1/events`.",
                .photoAccepted, headers: ["Location"]),
            .problem(
                .conflict, "Already \(PhotoLimits.maxPhotosPerUser) photos, or a copy of one of them.",
                types: ["conflict"]),
            .problem(
                .contentTooLarge, "Over \(PhotoLimits.maxUploadBytes) bytes; refused as soon as it is.",
                types: ["too-large"]),
            .problem(
                .unsupportedMediaType, "Not sent as an image or a form.", types: ["unsupported-media-type"]),
            .problem(
                .unprocessableContent, "An empty photo, or a form without its one photo part.",
                types: ["validation"]),
            noMediaAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.media.upload(request, context: context)
    }

    private static let photoList = Route(
        .get, "/v1/media/photos", summary: "The signed-in user's photos, in order, with signed URLs", tag: "media",
        security: .bearer,
        responses: signedIn([
            .json(.ok, "At most \(PhotoLimits.maxPhotosPerUser), rejected ones included.", .photoList), noMediaAnswer,
            badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.media.list(request, context: context)
    }

    private static let photoRead = Route(
        .get, "/v1/media/photos/{id}", summary: "One of the signed-in user's photos", tag: "media",
        security: .bearer, parameters: [photoID],
        responses: signedIn([
            .json(.ok, "The photo.", .photo),
            .problem(.notFound, "No such photo of this user.", types: ["not-found"]),
            noMediaAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.media.photo(request, context: context, photoID: context.parameters.get("id") ?? "")
    }

    private static let photoOrder = Route(
        .put, "/v1/media/photos/order", summary: "Put the photos in a new order (the first is the primary)",
        tag: "media", security: .bearer, body: .photoOrder,
        responses: signedIn([.json(.ok, "The new order.", .photoOrder), noMediaAnswer, badAnswer])
    ) { endpoints, request, context in
        try await endpoints.media.reorder(request, context: context)
    }

    private static let photoRemoval = Route(
        .delete, "/v1/media/photos/{id}", summary: "Remove a photo (its URLs answer 404 at once)", tag: "media",
        security: .bearer, parameters: [photoID],
        responses: signedIn([
            .described(.noContent, "Removed; the others moved up."),
            .problem(.notFound, "No such photo of this user.", types: ["not-found"]),
            noMediaAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.media.remove(request, context: context, photoID: context.parameters.get("id") ?? "")
    }

    private static let photoReviewList = Route(
        .get, "/v1/admin/photos", summary: "Photos by status, oldest first (moderators)", tag: "moderation",
        security: .bearer,
        parameters: [
            RouteParameter(
                "status", in: .query, required: false,
                description: "`pending-review` (the default), `approved`, `rejected` or `processing`")
        ],
        responses: signedIn([
            .json(.ok, "At most \(PhotoReviewListed.limit) photos, with signed URLs.", .photoList), notModerator,
            .problem(.unprocessableContent, "Not a status photos are listed by.", types: ["validation"]),
            noMediaAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.media.reviewList(request, context: context)
    }

    private static let photoDecision = Route(
        .post, "/v1/admin/photos/{id}/decision", summary: "Approve or reject a photo (moderators)",
        tag: "moderation", security: .bearer, parameters: [photoID, idempotencyKey], body: .photoDecision,
        responses: signedIn([
            .json(.ok, "Decided; the owner is told by `PhotoApproved` or `PhotoRejected`.", .photoDecided),
            notModerator,
            .problem(.notFound, "No such photo.", types: ["not-found"]),
            .problem(
                .conflict, "The decision does not fit the photo's status (approving an approved one…).",
                types: ["conflict"]),
            noMediaAnswer, badAnswer,
        ])
    ) { endpoints, request, context in
        try await endpoints.signedInIdempotent(request, context, moderator: true, limit: MediaRoutes.bodyLimit) {
            try await endpoints.media.decide($0, context: context, photoID: context.parameters.get("id") ?? "")
        }
    }

    private static let events = Route(
        .get, "/v1/events", summary: "The signed-in user's events as Server-Sent Events", tag: "live",
        security: .bearer,
        parameters: [
            RouteParameter(
                "Last-Event-ID", in: .header, required: false,
                description: "Replays the events after this one that are still kept, then streams live ones.")
        ],
        responses: signedIn([
            .eventStream(
                """
                A stream: `id` (event id), `event` (event type), `data` (the event's data as JSON); comment \
                lines as heartbeats; a last `event: end` with `{"reason":…}` (`token-expired`, \
                `account-closed`) when it ends.
                """),
            suspended,
            .problem(
                .tooManyRequests, "Rate limited, or too many streams open; see `Retry-After`.",
                types: ["rate-limited", "too-many-streams"], headers: ["Retry-After"]),
            .problem(
                .serviceUnavailable, "The gateway database is unavailable; see `Retry-After`.",
                types: ["unavailable"], headers: ["Retry-After"]),
        ])
    ) { endpoints, request, context in
        try await endpoints.events.stream(request, context: context)
    }

    private static let accountDeletion = Route(
        .delete, "/v1/account", summary: "Delete the account and everything every service keeps about the user",
        tag: "account", security: .bearer,
        responses: signedIn([
            .json(
                .accepted, "Deletion started; follow `Location` (`/v1/operations/{id}`).", .operation,
                headers: ["Location"])
        ])
    ) { endpoints, request, context in
        try await endpoints.account.delete(request, context: context)
    }

    private static let operationStatus = Route(
        .get, "/v1/operations/{id}", summary: "The status of a long operation", tag: "account",
        security: .bearer, parameters: [RouteParameter("id", in: .path, required: true, format: "uuid")],
        responses: signedIn([
            .json(.ok, "The operation.", .operation),
            .problem(.notFound, "No such operation for this user.", types: ["not-found"]),
        ])
    ) { endpoints, request, context in
        try await endpoints.account.operation(request, context: context, id: context.parameters.get("id") ?? "")
    }

    private static let openAPI = Route(
        .get, "/openapi.json", summary: "This document", tag: "operations",
        responses: [.described(.ok, "OpenAPI 3.1")]
    ) { _, _, _ in
        try OpenAPIDocument.answer()
    }
}
