import Foundation

/// A request event: the gateway publishes it with `reply_to` and waits, with a deadline,
/// for either `Reply` or a `RequestFailed`.
public protocol RequestEvent: Event {
    associatedtype Reply: Event
}

/// The typed failure answer to any request. `code` is machine-readable; the gateway maps
/// it to an HTTP status.
public struct RequestFailed: Event, Error {
    public static let eventType: EventType = "RequestFailed"
    /// 2 added `tooManyRequests` and `retryAfterSeconds`; a version 1 answer reads the same.
    public static let dataVersion = 2

    public enum Code: String, Codable, Sendable, CaseIterable {
        /// The request was well-formed but a field broke a rule; `fieldErrors` names each.
        case validationFailed
        /// The aggregate the request names does not exist.
        case notFound
        /// The request conflicts with the current state.
        case conflict
        /// The request was not allowed for this user.
        case forbidden
        /// The handler failed for a reason the caller cannot fix.
        case internalError
        /// The user did this too often; `retryAfterSeconds` says when they may again.
        case tooManyRequests
    }

    public var code: Code
    public var detail: String
    public var fieldErrors: [FieldError]?
    /// For `tooManyRequests`: seconds until the request would be accepted.
    public var retryAfterSeconds: Int?

    public init(code: Code, detail: String, fieldErrors: [FieldError]? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// One invalid field of a request, named as the client named it (camelCase JSON key).
public struct FieldError: Codable, Sendable, Equatable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
