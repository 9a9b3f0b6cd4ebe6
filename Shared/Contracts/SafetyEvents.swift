import Foundation

/// Why a user reports another.
public enum ReportReason: String, Codable, Sendable, CaseIterable {
    case fakeProfile = "fake-profile"
    case harassment, spam, scam
    case inappropriatePhoto = "inappropriate-photo"
    case underage, other
}

/// What a moderator decides about a report.
public enum ModerationAction: String, Codable, Sendable, CaseIterable {
    /// The report was unfounded.
    case dismiss
    /// The report was founded; the user is warned and stays.
    case warn
    /// The user is suspended until reinstated.
    case suspend
    /// The user is removed for good.
    case ban
    /// A suspension, ban or review hold is lifted.
    case reinstate
}

/// The rules of reports and automatic action.
public enum ReportRules {
    public static let detailMaxLength = 1000
    public static let maxReportsPerDay = 10
    /// Reports from this many distinct counted reporters within `windowDays` suspend the user.
    public static let reportersToSuspend = 3
    public static let windowDays = 30
    /// A reporter with at least this many resolved reports …
    public static let minimumResolvedToJudge = 5
    /// … of which at least this share were dismissed no longer counts toward automatic action.
    public static let dismissedShareIgnored = 0.7
    public static let noteMaxLength = 1000
}

/// A user reports another (`POST /v1/reports`).
public struct ReportFiled: RequestEvent {
    public typealias Reply = UserReported
    public static let eventType: EventType = "ReportFiled"
    public static let dataVersion = 1

    public var reporterId: UUID
    public var userId: UUID
    public var reason: String
    public var detail: String?

    public init(reporterId: UUID, userId: UUID, reason: String, detail: String?) {
        self.reporterId = reporterId
        self.userId = userId
        self.reason = reason
        self.detail = detail
    }
}

/// A user was reported. Also the answer to `ReportFiled`. The free-text detail stays in
/// the profile service, for moderators.
public struct UserReported: Event {
    public static let eventType: EventType = "UserReported"
    public static let dataVersion = 1

    public var reportId: UUID
    public var reporterId: UUID
    public var userId: UUID
    public var reason: ReportReason
    public var reportedAt: Date

    public init(reportId: UUID, reporterId: UUID, userId: UUID, reason: ReportReason, reportedAt: Date) {
        self.reportId = reportId
        self.reporterId = reporterId
        self.userId = userId
        self.reason = reason
        self.reportedAt = reportedAt
    }
}

/// A report as a moderator reads it.
public struct ReportSummary: Codable, Sendable, Equatable {
    public var reportId: UUID
    /// Nil once the reporter deleted their account.
    public var reporterId: UUID?
    public var userId: UUID
    public var reason: ReportReason
    public var detail: String?
    /// `open`, `dismissed`, `actioned` or `superseded` (closed by a decision about another
    /// report of the same user).
    public var status: String
    public var reportedAt: Date
    /// Whether this reporter counts toward automatic action (see `ReportRules`).
    public var reporterCounted: Bool
    public var decision: ModerationAction?
    public var decidedAt: Date?

    public init(
        reportId: UUID, reporterId: UUID?, userId: UUID, reason: ReportReason, detail: String?, status: String,
        reportedAt: Date, reporterCounted: Bool, decision: ModerationAction?, decidedAt: Date?
    ) {
        self.reportId = reportId
        self.reporterId = reporterId
        self.userId = userId
        self.reason = reason
        self.detail = detail
        self.status = status
        self.reportedAt = reportedAt
        self.reporterCounted = reporterCounted
        self.decision = decision
        self.decidedAt = decidedAt
    }
}

/// A moderator lists reports (`GET /v1/admin/reports?status=`).
public struct ReportsListRequested: RequestEvent {
    public typealias Reply = ReportsListed
    public static let eventType: EventType = "ReportsListRequested"
    public static let dataVersion = 1

    public var moderatorId: UUID
    /// `open`, `dismissed`, `actioned`, `superseded` or `all`.
    public var status: String

    public init(moderatorId: UUID, status: String) {
        self.moderatorId = moderatorId
        self.status = status
    }
}

/// The answer to `ReportsListRequested`: oldest first, at most `ReportsListed.limit`.
public struct ReportsListed: Event {
    public static let eventType: EventType = "ReportsListed"
    public static let dataVersion = 1
    public static let limit = 200

    public var reports: [ReportSummary]

    public init(reports: [ReportSummary]) { self.reports = reports }
}

/// A moderator decides a report (`POST /v1/admin/reports/{id}/decision`).
public struct ReportDecisionRequested: RequestEvent {
    public typealias Reply = ReportDecided
    public static let eventType: EventType = "ReportDecisionRequested"
    public static let dataVersion = 1

    public var moderatorId: UUID
    public var reportId: UUID
    public var action: String
    public var note: String?

    public init(moderatorId: UUID, reportId: UUID, action: String, note: String?) {
        self.moderatorId = moderatorId
        self.reportId = reportId
        self.action = action
        self.note = note
    }
}

/// A moderator decided a report; its audit row holds the note. Also the answer to
/// `ReportDecisionRequested`. A suspension, ban or reinstatement it causes follows as its own event.
public struct ReportDecided: Event {
    public static let eventType: EventType = "ReportDecided"
    public static let dataVersion = 1

    public var decisionId: UUID
    public var reportId: UUID
    public var userId: UUID
    public var moderatorId: UUID
    public var action: ModerationAction
    public var decidedAt: Date

    public init(
        decisionId: UUID, reportId: UUID, userId: UUID, moderatorId: UUID, action: ModerationAction, decidedAt: Date
    ) {
        self.decisionId = decisionId
        self.reportId = reportId
        self.userId = userId
        self.moderatorId = moderatorId
        self.action = action
        self.decidedAt = decidedAt
    }
}

/// A user was banned for good: they can no longer sign in.
public struct UserBanned: SequencedEvent {
    public static let eventType: EventType = "UserBanned"
    public static let dataVersion = 1

    public var userId: UUID
    public var reason: String
    /// The user's moderation sequence (shared with `UserSuspended` and `UserReinstated`).
    public var sequence: Int64

    public init(userId: UUID, reason: String, sequence: Int64) {
        self.userId = userId
        self.reason = reason
        self.sequence = sequence
    }
}

/// A suspension, ban or review hold was lifted: the user may sign in and be discovered again.
public struct UserReinstated: SequencedEvent {
    public static let eventType: EventType = "UserReinstated"
    public static let dataVersion = 1

    public var userId: UUID
    /// The user's moderation sequence (shared with `UserSuspended` and `UserBanned`).
    public var sequence: Int64

    public init(userId: UUID, sequence: Int64) {
        self.userId = userId
        self.sequence = sequence
    }
}

/// A user blocked another (published by matching, which owns blocks): neither may see the other.
public struct UserBlocked: Event {
    public static let eventType: EventType = "UserBlocked"
    public static let dataVersion = 1

    public var blockerId: UUID
    public var blockedId: UUID
    public var blockedAt: Date

    public init(blockerId: UUID, blockedId: UUID, blockedAt: Date) {
        self.blockerId = blockerId
        self.blockedId = blockedId
        self.blockedAt = blockedAt
    }
}

/// A block was lifted.
public struct UserUnblocked: Event {
    public static let eventType: EventType = "UserUnblocked"
    public static let dataVersion = 1

    public var blockerId: UUID
    public var blockedId: UUID
    public var unblockedAt: Date

    public init(blockerId: UUID, blockedId: UUID, unblockedAt: Date) {
        self.blockerId = blockerId
        self.blockedId = blockedId
        self.unblockedAt = unblockedAt
    }
}
