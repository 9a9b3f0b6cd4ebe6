import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Persistence
import ServiceRuntime
import SignedURLs

/// `GET /media/{photoId}/{variant}?exp=…&kid=…&sig=…` on media's own port: an origin a CDN
/// can sit in front of. A bad, unknown-key or expired signature is 403; a photo that is not
/// there to show (removed, rejected, still processing) is 404; otherwise the variant, with
/// its hash as `ETag` (a match is 304), `Cache-Control: private` until the URL expires (an
/// hour at most), `nosniff` and the type the bytes are (always JPEG: variants are written
/// so).
struct MediaOrigin: Sendable {
    let pool: DatabasePool
    let blobs: any BlobStore
    let signer: MediaURLSigner
    let now: @Sendable () -> Date

    struct Served: Sendable, Equatable {
        var status: HTTPResponse.Status
        var headers: [String: String]
        var body: [UInt8]
    }

    func serve(photo text: String, variant name: String, query: [String: String], ifNoneMatch: String?) async
        -> Served
    {
        guard let photoID = UUID(uuidString: text), let variant = MediaURLSigner.Variant(rawValue: name) else {
            return Self.problem(.notFound, "not-found", "No such photo")
        }
        let time = now()
        let expiry: Int64
        switch signer.verify(
            photoID: photoID, variant: variant, expires: query["exp"], keyID: query["kid"], signature: query["sig"],
            now: time)
        {
        case .success(let valid): expiry = valid
        case .failure(.expired): return Self.problem(.forbidden, "url-expired", "This link has expired")
        case .failure: return Self.problem(.forbidden, "bad-signature", "This link is not valid")
        }
        let photo: PhotoStore.Photo?
        do {
            photo = try await pool.withConnection { try PhotoStore.find(id: photoID, on: $0) }
        } catch {
            return Self.problem(.serviceUnavailable, "unavailable", "Try again shortly")
        }
        guard let photo, [.approved, .pendingReview].contains(photo.status),
            let key = variant == .display ? photo.displayKey : photo.thumbnailKey
        else { return Self.problem(.notFound, "not-found", "No such photo") }
        let maxAge = max(0, min(3600, Int(expiry - Int64(time.timeIntervalSince1970))))
        var headers = [
            "ETag": "\"\(key)\"", "Cache-Control": "private, max-age=\(maxAge)", "X-Content-Type-Options": "nosniff",
        ]
        if let ifNoneMatch,
            ifNoneMatch.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == "\"\(key)\""
                    || $0.trimmingCharacters(in: .whitespaces) == "*"
            })
        {
            return Served(status: .notModified, headers: headers, body: [])
        }
        let bytes: [UInt8]?
        do {
            bytes = try await blobs.get(key)
        } catch {
            return Self.problem(.serviceUnavailable, "unavailable", "Try again shortly")
        }
        guard let bytes else { return Self.problem(.notFound, "not-found", "No such photo") }
        headers["Content-Type"] = ImageType.jpeg.mediaType
        return Served(status: .ok, headers: headers, body: bytes)
    }

    /// A problem+json answer, as every Kindred server writes one.
    static func problem(_ status: HTTPResponse.Status, _ type: String, _ title: String) -> Served {
        let answer = Problem(status: status, type: type, title: title).answer(instance: "/media")
        var headers = ["X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"]
        headers["Content-Type"] = answer.contentType
        return Served(status: answer.status, headers: headers, body: answer.body)
    }

    /// The route on the service's router.
    func register(on router: Router<KindredRequestContext>) {
        router.get("/media/:photoId/:variant") { request, context -> Response in
            var query: [String: String] = [:]
            for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
            let served = await serve(
                photo: context.parameters.get("photoId") ?? "", variant: context.parameters.get("variant") ?? "",
                query: query, ifNoneMatch: request.headers[.ifNoneMatch])
            var fields = HTTPFields()
            for (name, value) in served.headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return Response(
                status: served.status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: served.body)))
        }
    }
}
