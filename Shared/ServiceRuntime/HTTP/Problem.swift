import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// An RFC 9457 problem document, the body of every error a Kindred HTTP server returns.
/// The problems only one server answers with (the gateway's `token-expired`, …) are
/// declared beside that server as extensions.
package struct Problem: Error, HTTPResponseError, Codable, Sendable, Equatable {
    package var type: String
    package var title: String
    /// The HTTP status code (JSON key `status`).
    package var statusCode: Int
    package var detail: String?
    package var instance: String?
    /// For 422: each invalid field and what is wrong with it.
    package var errors: [FieldError]?
    /// Seconds before a retry makes sense (sent as `Retry-After` too).
    package var retryAfter: Int?

    /// Where the problem types live: `type` is this followed by the short name.
    package static let typePrefix = "https://kindred.example/problems/"

    package init(
        status: HTTPResponse.Status, type: String, title: String, detail: String? = nil,
        errors: [FieldError]? = nil, retryAfter: Int? = nil
    ) {
        self.type = Self.typePrefix + type
        self.title = title
        self.statusCode = status.code
        self.detail = detail
        self.errors = errors
        self.retryAfter = retryAfter
    }

    enum CodingKeys: String, CodingKey {
        case type, title
        case statusCode = "status"
        case detail, instance, errors, retryAfter
    }

    package var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        try answer(instance: request.uri.path).response(from: request, context: context)
    }

    /// The problem as an answer that can be stored and replayed.
    package func answer(instance: String) -> Answer {
        var problem = self
        problem.instance = instance
        let data = (try? KindredJSON.sharedEncoder.encode(problem)) ?? Data()
        return Answer(status: status, contentType: Answer.problemContentType, body: Array(data), retryAfter: retryAfter)
    }

    // MARK: The problems of every HTTP server

    package static func validation(_ errors: [FieldError]) -> Problem {
        Problem(
            status: .unprocessableContent, type: "validation", title: "Some fields are invalid",
            detail: errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "), errors: errors)
    }

    package static func malformedBody(_ detail: String) -> Problem {
        Problem(status: .badRequest, type: "malformed-body", title: "The body is not valid JSON", detail: detail)
    }

    package static func unavailable(_ detail: String) -> Problem {
        Problem(
            status: .serviceUnavailable, type: "unavailable", title: "Temporarily unavailable", detail: detail,
            retryAfter: 5)
    }
}

/// Runs database work, answering 503 (`<what> is unreachable`) when the database is away.
package func unavailableWhenDatabaseIsDown<T: Sendable>(_ what: String, _ work: () async throws -> T) async throws
    -> T
{
    do {
        return try await work()
    } catch let error as DatabaseError where error.kind == .connection {
        throw Problem.unavailable("\(what) is unreachable")
    }
}
