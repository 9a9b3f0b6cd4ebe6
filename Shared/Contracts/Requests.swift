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
    public static let dataVersion = 1

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
    }

    public var code: Code
    public var detail: String
    public var fieldErrors: [FieldError]?

    public init(code: Code, detail: String, fieldErrors: [FieldError]? = nil) {
        self.code = code
        self.detail = detail
        self.fieldErrors = fieldErrors
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
