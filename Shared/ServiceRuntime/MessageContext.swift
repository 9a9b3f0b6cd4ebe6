import Foundation
import Messaging

/// What a handler may know about the delivery of the message it handles, as a plain value
/// (tests build one with the initializer).
public struct MessageContext: Sendable, Equatable {
    /// The queue the message came from (`<EventType>.<service>`); the inbox claims it per queue.
    public var queue: String
    /// Which try this is: 1 on the first delivery, more after retries.
    public var attempt: Int
    /// The `kindred replay` that published this copy, if one did.
    public var replayID: String?
    /// When the requester stops waiting (requests only): effects are not committed after it.
    public var deadline: Date?
    /// Where a request's answer goes (requests only).
    public var replyTo: String?

    public init(
        queue: String, attempt: Int = 1, replayID: String? = nil, deadline: Date? = nil, replyTo: String? = nil
    ) {
        self.queue = queue
        self.attempt = attempt
        self.replayID = replayID
        self.deadline = deadline
        self.replyTo = replyTo
    }

    /// The context of a delivery, from the headers its consumer already read and checked (a
    /// message with an untrustworthy header never reaches a handler).
    package init(delivery: Delivery, headers: TrustedHeaders) {
        self.init(
            queue: delivery.queue, attempt: headers.failedAttempts + 1, replayID: headers.replayID,
            deadline: headers.deadline, replyTo: delivery.properties.replyTo)
    }
}
