import Contracts
import Crypto
import Foundation
import Hummingbird
import Messaging
import ServiceRuntime

/// The photo routes (listed in `GatewayAPI`), answered by the media service through
/// request events; every photo an answer shows carries signed, expiring URLs to media's
/// origin, minted here.
struct MediaRoutes: Sendable {
    let requests: RequestReplyClient
    let authenticator: Authenticator
    let idempotency: Idempotency
    let links: PhotoLinkMinter
    /// The deadline of a route, by `METHOD path`.
    let deadline: @Sendable (String) -> Duration
    let now: @Sendable () -> Date

    static let bodyLimit = 16 * 1024

    /// `POST /v1/media/photos`: the signed-in user and the body's type are checked before a
    /// byte of it is read, a declared length over the limit is 413 at once, and reading
    /// stops with 413 as soon as the limit is passed. Under an `Idempotency-Key` the photo's
    /// id comes from the user and the key, so a retry after a lost answer (a 504) is the
    /// same photo, not a copy of it.
    func upload(_ request: Request, context: KindredRequestContext) async throws -> Response {
        let userID = try authenticator.userID(of: request, context: context)
        let contentType = request.headers[.contentType] ?? ""
        if let failure = PhotoUpload.checkType(request.headers[.contentType]) { throw Self.problem(failure) }
        let limit = PhotoUpload.bodyLimit(contentType: contentType)
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw Self.tooLarge
        }
        let photoID = request.headers[Idempotency.header].map { Self.photoID(of: userID, key: $0) } ?? .random()
        do {
            return try await idempotency.run(request, context: context, limit: limit) { request in
                let body = try await request.body.collect(upTo: limit)
                let upload: PhotoUpload
                switch PhotoUpload.read(Array(body.readableBytesView), contentType: contentType) {
                case .success(let read): upload = read
                case .failure(let failure): throw Self.problem(failure)
                }
                let reply = try await requests.answer(
                    PhotoUploadRequested(bytes: upload.bytes), for: request, userID: userID, at: now(),
                    within: deadline("POST /v1/media/photos"), dataContentType: upload.claimedType, id: photoID)
                var answer = try jsonResponse(reply.data, status: .accepted)
                answer.location = "/v1/media/photos/\(reply.data.photoId.uuidString)"
                return answer
            }
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Self.tooLarge
        }
    }

    /// The id of the photo an upload under `key` makes: a version 4 layout of the first
    /// 16 bytes of SHA-256 over the user and the key (keys are scoped to their user).
    static func photoID(of userID: UUID, key: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data("photo-upload\n\(userID.uuidString)\n\(key)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// `GET /v1/media/photos`: the user's own photos in order, with their status; those that
    /// can be shown carry URLs.
    func list(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        let photos = try await ownPhotos(of: userID, for: request, route: "GET /v1/media/photos")
        return try jsonResponse(PhotoList(photos: photos))
    }

    /// `GET /v1/media/photos/{id}`: one of the user's own photos (where an upload's
    /// `Location` points, to follow its processing).
    func photo(_ request: Request, context: KindredRequestContext, photoID text: String) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        let photos = try await ownPhotos(of: userID, for: request, route: "GET /v1/media/photos/{id}")
        guard let photoID = UUID(uuidString: text), let photo = photos.first(where: { $0.photoId == photoID }) else {
            throw Self.noSuchPhoto
        }
        return try jsonResponse(photo)
    }

    /// `PUT /v1/media/photos/order`.
    func reorder(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .photoOrder)
        body.require("photoIds")
        let texts = body.strings("photoIds")
        let photoIDs = texts?.compactMap(UUID.init(uuidString:))
        if let texts, photoIDs?.count != texts.count { body.reject("photoIds", "must be photo ids (UUIDs)") }
        guard body.errors.isEmpty, let photoIDs else { throw Problem.validation(body.errors) }
        let reply = try await requests.answer(
            PhotosReorderRequested(userId: userID, photoIds: photoIDs), for: request, userID: userID, at: now(),
            within: deadline("PUT /v1/media/photos/order"))
        return try jsonResponse(PhotoOrder(photoIds: reply.data.photoIds))
    }

    /// `DELETE /v1/media/photos/{id}`.
    func remove(_ request: Request, context: KindredRequestContext, photoID text: String) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        guard let photoID = UUID(uuidString: text) else { throw Self.noSuchPhoto }
        _ = try await requests.answer(
            PhotoRemovalRequested(userId: userID, photoId: photoID), for: request, userID: userID, at: now(),
            within: deadline("DELETE /v1/media/photos/{id}"))
        return Answer(status: .noContent)
    }

    /// `GET /v1/admin/photos?status=`: moderators only; `pending-review` by default.
    func reviewList(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let moderatorID = try authenticator.moderator(of: request)
        let status = request.uri.queryParameters.get("status") ?? PhotoStatus.pendingReview.rawValue
        let reply = try await requests.answer(
            PhotoReviewListRequested(moderatorId: moderatorID, status: status), for: request, userID: moderatorID,
            at: now(), within: deadline("GET /v1/admin/photos"))
        let time = now()
        return try jsonResponse(PhotoList(photos: reply.data.photos.map { document(of: $0, now: time) }))
    }

    /// `POST /v1/admin/photos/{id}/decision`: moderators only.
    func decide(_ request: Request, context: KindredRequestContext, photoID text: String) async throws -> Answer {
        let moderatorID = try authenticator.moderator(of: request)
        var body = try await JSONBody.read(request, limit: Self.bodyLimit, documentedBy: .photoDecision)
        body.require("decision")
        let decisionText = body.string("decision")
        let reason = body.string("reason")
        let decision = decisionText.flatMap(PhotoDecision.init(rawValue:))
        if decisionText != nil, decision == nil {
            body.reject("decision", "must be one of \(PhotoDecision.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let reason, reason.isEmpty || reason.count > PhotoLimits.reasonMaxLength {
            body.reject("reason", "must be 1 to \(PhotoLimits.reasonMaxLength) characters")
        }
        guard body.errors.isEmpty, let decision else { throw Problem.validation(body.errors) }
        guard let photoID = UUID(uuidString: text) else { throw Self.noSuchPhoto }
        let reply = try await requests.answer(
            PhotoDecisionRequested(moderatorId: moderatorID, photoId: photoID, decision: decision, reason: reason),
            for: request, userID: moderatorID, at: now(), within: deadline("POST /v1/admin/photos/{id}/decision"))
        return try jsonResponse(reply.data)
    }

    private func ownPhotos(of userID: UUID, for request: Request, route: String) async throws -> [PhotoDocument] {
        let reply = try await requests.answer(
            PhotosListRequested(userId: userID), for: request, userID: userID, at: now(), within: deadline(route))
        let time = now()
        return reply.data.photos.map { document(of: $0, now: time) }
    }

    /// A photo as its owner or a moderator sees it: URLs while media serves it (approved or
    /// waiting for review), none while it is processing or after a rejection.
    private func document(of photo: PhotoSummary, now time: Date) -> PhotoDocument {
        let servable = photo.status == .approved || photo.status == .pendingReview
        return PhotoDocument(
            photoId: photo.photoId, userId: photo.userId, status: photo.status, position: photo.position,
            reason: photo.reason, width: photo.width, height: photo.height, uploadedAt: photo.uploadedAt,
            urls: servable ? links.links(to: photo.photoId, now: time) : nil)
    }

    private static let noSuchPhoto = Problem(
        status: .notFound, type: "not-found", title: "Not found", detail: "no such photo")

    private static let tooLarge = Problem(
        status: .contentTooLarge, type: "too-large", title: "The photo is too large",
        detail: "a photo is at most \(PhotoLimits.maxUploadBytes) bytes")

    private static func problem(_ failure: PhotoUpload.Failure) -> Problem {
        switch failure {
        case .unsupportedType(let message):
            return Problem(
                status: .unsupportedMediaType, type: "unsupported-media-type", title: "Not a photo upload",
                detail: message)
        case .malformed(let message):
            return .validation([FieldError(field: "photo", message: message)])
        case .tooLarge:
            return tooLarge
        }
    }
}
