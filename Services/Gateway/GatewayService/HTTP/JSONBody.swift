import Contracts
import Foundation
import Hummingbird

/// A JSON object body read field by field, so that every wrong field is named in one 422.
///
/// Rule: the body must be one JSON object; a field the route does not know is rejected
/// (so a typo never silently does nothing); `null` is the same as absent; text with a NUL
/// character is refused (C libraries such as libpq would cut it there).
struct JSONBody {
    private let object: [String: Any]
    private(set) var errors: [FieldError] = []

    /// Reads at most `limit` bytes (413 beyond) and parses them (400 if not a JSON object).
    static func read(_ request: Request, limit: Int, allowed: Set<String>) async throws -> JSONBody {
        let buffer = try await request.body.collect(upTo: limit)
        let data = Data(buffer.readableBytesView)
        guard let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw Problem.malformedBody("the body must be a JSON object")
        }
        guard let object = parsed as? [String: Any] else {
            throw Problem.malformedBody("the body must be a JSON object, not \(type(of: parsed))")
        }
        var body = JSONBody(object: object)
        for key in object.keys.sorted() where !allowed.contains(key) {
            body.errors.append(FieldError(field: key, message: "is not a field of this request"))
        }
        return body
    }

    private init(object: [String: Any]) { self.object = object }

    mutating func string(_ key: String) -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            errors.append(FieldError(field: key, message: "must be a string"))
            return nil
        }
        guard !text.utf8.contains(0) else {
            errors.append(FieldError(field: key, message: "must not contain NUL characters (\\u0000)"))
            return nil
        }
        return text
    }

    mutating func strings(_ key: String) -> [String]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let list = value as? [Any], let texts = list as? [String] else {
            errors.append(FieldError(field: key, message: "must be a list of strings"))
            return nil
        }
        guard !texts.contains(where: { $0.utf8.contains(0) }) else {
            errors.append(FieldError(field: key, message: "must not contain NUL characters (\\u0000)"))
            return nil
        }
        return texts
    }
}

/// An HTTP answer held as bytes, so that it can be stored for an `Idempotency-Key` and
/// replayed exactly.
struct Answer: ResponseGenerator, Sendable {
    var status: HTTPResponse.Status
    var contentType: String?
    var body: [UInt8]
    var retryAfter: Int?
    /// For 201 and 202: where the created thing or the operation's status lives.
    var location: String?

    init(status: HTTPResponse.Status, contentType: String? = nil, body: [UInt8] = [], retryAfter: Int? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.retryAfter = retryAfter
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.cacheControl: "no-store"]
        if let contentType { headers[.contentType] = contentType }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// A JSON answer encoded with the suite's one JSON configuration.
func jsonResponse<Body: Encodable>(_ body: Body, status: HTTPResponse.Status = .ok) throws -> Answer {
    Answer(status: status, contentType: "application/json", body: Array(try KindredJSON.sharedEncoder.encode(body)))
}

/// Runs CPU-heavy work (bcrypt) on a dispatch thread, off Swift's cooperative pool.
func offloaded<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}
