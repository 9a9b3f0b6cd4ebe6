import Contracts
import Foundation
import Hummingbird

/// An HTTP answer held as bytes, so that it can be stored (for an `Idempotency-Key`) and
/// replayed exactly.
package struct Answer: ResponseGenerator, Sendable {
    package var status: HTTPResponse.Status
    package var contentType: String?
    package var body: [UInt8]
    package var retryAfter: Int?
    /// For 201 and 202: where the created thing or the operation's status lives.
    package var location: String?

    /// The media type of JSON bodies.
    package static let jsonContentType = "application/json"
    /// The media type of RFC 9457 problem documents.
    package static let problemContentType = "application/problem+json"

    package init(
        status: HTTPResponse.Status, contentType: String? = nil, body: [UInt8] = [], retryAfter: Int? = nil,
        location: String? = nil
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.retryAfter = retryAfter
        self.location = location
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.cacheControl: "no-store"]
        if let contentType { headers[.contentType] = contentType }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// A JSON answer encoded with the suite's one JSON configuration.
package func jsonResponse<Body: Encodable>(_ body: Body, status: HTTPResponse.Status = .ok) throws -> Answer {
    Answer(
        status: status, contentType: Answer.jsonContentType, body: Array(try KindredJSON.sharedEncoder.encode(body)))
}
