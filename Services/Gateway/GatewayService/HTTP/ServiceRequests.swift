import Contracts
import Foundation
import Hummingbird
import Messaging
import ServiceRuntime

extension RequestReplyClient {
    /// Asks a service on behalf of an HTTP request by `userID` and waits for the answer;
    /// the request's id is the correlation id, and a failure is the problem to answer with.
    /// `id` (random by default) is the request event's.
    func answer<Q: RequestEvent>(
        _ data: Q, for request: Request, userID: UUID, at time: Date, within deadline: Duration,
        dataContentType: String? = nil, id: UUID = .random()
    ) async throws -> Envelope<Q.Reply> {
        var envelope = Envelope(
            id: id, source: .gateway, time: time, subject: userID.uuidString, data: data,
            correlationID: RequestID.of(request))
        if let dataContentType { envelope.datacontenttype = dataContentType }
        do {
            return try await self.request(envelope, timeout: deadline)
        } catch {
            throw ServiceRequests.problem(for: error)
        }
    }
}

/// How the gateway answers when a service it asked fails.
enum ServiceRequests {
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
            case .tooManyRequests:
                return Problem(
                    status: .tooManyRequests, type: "limit-reached", title: "Too many requests",
                    detail: failure.detail, retryAfter: max(1, failure.retryAfterSeconds ?? 60))
            }
        }
    }
}
