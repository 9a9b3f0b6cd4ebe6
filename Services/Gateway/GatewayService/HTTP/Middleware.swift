import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceRuntime

/// Refuses non-canonical paths (`CanonicalPath`), turns every error into a problem+json
/// answer, gives every response a request id and security headers, and logs one line per
/// request.
struct GatewayMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let requestID = RequestID.of(request)
        var head = request.head
        // Handlers read the id back from the request (RequestID.of) as the correlation id.
        head.headerFields[RequestID.field] = requestID
        let request = Request(head: head, body: request.body)
        let started = ContinuousClock.now
        var response: Response
        do {
            if let canonical = CanonicalPath.correction(of: request.uri.path) {
                throw Problem(
                    status: .badRequest, type: "non-canonical-path", title: "The path is not in its canonical form",
                    detail: "no empty segments, no trailing slash, no percent-encoding: try \(canonical)")
            }
            response = try await next(request, context)
        } catch let problem as Problem {
            response = try problem.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            let problem = Problem(
                status: error.status, type: "http-\(error.status.code)", title: error.status.reasonPhrase,
                detail: (error as? HTTPError)?.body)
            response = try problem.response(from: request, context: context)
        } catch {
            logger.error("unhandled error", metadata: ["error": "\(error)", "request_id": "\(requestID)"])
            let problem = Problem(status: .internalServerError, type: "internal", title: "Something went wrong")
            response = try problem.response(from: request, context: context)
        }
        response.headers[RequestID.field] = requestID
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.constant("X-Frame-Options")] = "DENY"
        response.headers[.constant("Referrer-Policy")] = "no-referrer"
        logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "correlation_id": "\(requestID)",
                "duration_ms": "\((ContinuousClock.now - started).milliseconds)",
            ])
        return response
    }
}

/// The id of one HTTP request: taken from `X-Request-ID` when the client sent a sane one,
/// otherwise minted. It becomes the `correlationid` of every event the request causes.
enum RequestID {
    static let field = HTTPField.Name.constant("X-Request-ID")

    static func of(_ request: Request) -> String {
        if let sent = request.headers[field], (8...64).contains(sent.count),
            sent.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        {
            return sent
        }
        return UUID.random().uuidString
    }
}

extension HTTPField.Name {
    /// A header name written in the source, known to be a valid token.
    static func constant(_ name: String) -> HTTPField.Name {
        guard let parsed = HTTPField.Name(name) else { preconditionFailure("invalid header name \(name)") }
        return parsed
    }
}
