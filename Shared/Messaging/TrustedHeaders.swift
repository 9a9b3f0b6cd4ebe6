import Foundation

/// The headers the runtime itself acts on, read from a delivery and checked.
///
/// Anyone who can publish to a queue can set any header, so none of them is trusted as
/// it comes: a value of the wrong kind or out of range makes the message a dead letter
/// with reason `bad-header` (`EventConsumer`) instead of a crash or a loop.
public struct TrustedHeaders: Sendable, Equatable {
    /// How many times a handler already failed on this message (`x-kindred-attempts`).
    public var failedAttempts: Int
    /// The `kindred replay` that published this copy (`x-kindred-replay-id`).
    public var replayID: String?
    /// A request's deadline (`x-kindred-deadline`, Unix milliseconds): after it, its answer
    /// is worthless and its effects must not be applied.
    public var deadline: Date?

    /// The most attempts a message may claim; far above any retry policy, and small enough
    /// that no arithmetic on it can overflow.
    public static let maximumAttempts = 10_000
    static let maximumReplayIDLength = 128

    public init(failedAttempts: Int = 0, replayID: String? = nil, deadline: Date? = nil) {
        self.failedAttempts = failedAttempts
        self.replayID = replayID
        self.deadline = deadline
    }

    /// Reads and checks the headers; the error names the header and what is wrong with it.
    public static func read(_ headers: [String: HeaderValue]) -> Result<TrustedHeaders, BadHeader> {
        var trusted = TrustedHeaders()
        switch headers[DeadLetterHeader.attempts] {
        case nil: break
        case .int(let value) where (0...Int64(maximumAttempts)).contains(value): trusted.failedAttempts = Int(value)
        case let value?:
            return .failure(
                BadHeader(
                    name: DeadLetterHeader.attempts, problem: "must be a whole number from 0 to \(maximumAttempts)",
                    value: value))
        }
        switch headers[ReplayHeader.replayID] {
        case nil: break
        case .string(let value) where (1...maximumReplayIDLength).contains(value.utf8.count):
            trusted.replayID = value
        case let value?:
            return .failure(
                BadHeader(
                    name: ReplayHeader.replayID, problem: "must be text of 1 to \(maximumReplayIDLength) bytes",
                    value: value))
        }
        switch deadline(in: headers) {
        case .success(let deadline): trusted.deadline = deadline
        case .failure(let bad): return .failure(bad)
        }
        return .success(trusted)
    }

    /// The request deadline alone (`x-kindred-deadline`), checked the same way.
    static func deadline(in headers: [String: HeaderValue]) -> Result<Date?, BadHeader> {
        switch headers[RequestHeader.deadline] {
        case nil: return .success(nil)
        // From 2000 to 2200: anything else is not a deadline a Kindred service wrote.
        case .int(let value) where (946_684_800_000...7_258_118_400_000).contains(value):
            return .success(Date(timeIntervalSince1970: Double(value) / 1000))
        case let value?:
            return .failure(
                BadHeader(
                    name: RequestHeader.deadline, problem: "must be a time in Unix milliseconds", value: value))
        }
    }
}

/// A header the runtime cannot trust.
public struct BadHeader: Error, Equatable, CustomStringConvertible {
    public let name: String
    public let problem: String
    public let value: HeaderValue

    public var description: String {
        let shown: String
        switch value {
        case .int(let number): shown = String(number)
        case .string(let text): shown = "'\(text.prefix(64))'"
        }
        return "header \(name) \(problem), not \(shown)"
    }
}

/// Headers of request events.
public enum RequestHeader {
    /// When the requester stops waiting, in Unix milliseconds. A request found past it is
    /// dropped, never applied: the requester already answered its client (504).
    public static let deadline = "x-kindred-deadline"

    /// The header value of a deadline.
    public static func value(of deadline: Date) -> HeaderValue {
        .int(Int64((deadline.timeIntervalSince1970 * 1000).rounded(.up)))
    }
}

extension Delivery {
    /// Throws `RequestExpired` when this delivery is a request whose deadline has passed.
    public func checkDeadline(now: Date = Date()) throws {
        guard case .success(let deadline) = TrustedHeaders.deadline(in: properties.headers) else { return }
        try RequestExpired.check(deadline, now: now)
    }
}
