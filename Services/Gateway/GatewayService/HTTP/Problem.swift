import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence

/// An RFC 9457 problem document, the body of every error the gateway returns.
public struct Problem: Error, HTTPResponseError, Codable, Sendable, Equatable {
    public var type: String
    public var title: String
    /// The HTTP status code (JSON key `status`).
    public var statusCode: Int
    public var detail: String?
    public var instance: String?
    /// For 422: each invalid field and what is wrong with it.
    public var errors: [FieldError]?
    /// Seconds before a retry makes sense (sent as `Retry-After` too).
    public var retryAfter: Int?

    public init(
        status: HTTPResponse.Status, type: String, title: String, detail: String? = nil,
        errors: [FieldError]? = nil, retryAfter: Int? = nil
    ) {
        self.type = "https://kindred.example/problems/\(type)"
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

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try answer(instance: request.uri.path).response(from: request, context: context)
    }

    /// The problem as an answer that can be stored and replayed.
    func answer(instance: String) -> Answer {
        var problem = self
        problem.instance = instance
        let data = (try? KindredJSON.sharedEncoder.encode(problem)) ?? Data()
        return Answer(
            status: status, contentType: "application/problem+json", body: Array(data), retryAfter: retryAfter)
    }

    // MARK: The problems the gateway answers with

    public static func validation(_ errors: [FieldError]) -> Problem {
        Problem(
            status: .unprocessableContent, type: "validation", title: "Some fields are invalid",
            detail: errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "), errors: errors)
    }

    public static func malformedBody(_ detail: String) -> Problem {
        Problem(status: .badRequest, type: "malformed-body", title: "The body is not valid JSON", detail: detail)
    }

    public static let unauthenticated = Problem(
        status: .unauthorized, type: "unauthenticated", title: "Sign in first",
        detail: "send an access token as 'Authorization: Bearer <token>'")

    public static let suspended = Problem(
        status: .forbidden, type: "account-suspended", title: "This account is suspended or being deleted")

    public static let badCredentials = Problem(
        status: .unauthorized, type: "bad-credentials", title: "Wrong e-mail or password")

    public static func unavailable(_ detail: String) -> Problem {
        Problem(
            status: .serviceUnavailable, type: "unavailable", title: "Temporarily unavailable", detail: detail,
            retryAfter: 5)
    }

    public static let timeout = Problem(
        status: .gatewayTimeout, type: "timeout", title: "No answer in time",
        detail: "the service did not answer before the deadline; retrying is safe")
}

/// Runs database work, answering 503 (`<what> is unreachable`) when the database is away.
func unavailableWhenDatabaseIsDown<T: Sendable>(_ what: String, _ work: () async throws -> T) async throws -> T {
    do {
        return try await work()
    } catch let error as DatabaseError where error.kind == .connection {
        throw Problem.unavailable("\(what) is unreachable")
    }
}
