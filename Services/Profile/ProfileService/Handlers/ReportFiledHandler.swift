import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `ReportFiled` → a report (one open per reporter and user; at most
/// `ReportRules.maxReportsPerDay` a day per reporter), `UserReported` published and
/// answered, then the automatic action the open reports call for (`ReportPolicy`):
/// suspension after reports from 3 counted reporters in 30 days, a review hold after a
/// counted `underage` one.
struct ReportFiledHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<ReportFiled>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<UserReported, RequestFailed> {
        let (reporter, target) = (request.data.reporterId, request.data.userId)
        let reason: ReportReason
        let detail: String?
        switch ReportPolicy.validate(
            reason: request.data.reason, detail: request.data.detail, reporter: reporter, target: target)
        {
        case .failure(let failure): return .failure(failure)
        case .success(let valid): (reason, detail) = valid
        }
        let time = now()
        let day: TimeInterval = 24 * 3600
        let filedToday = try ReportStore.filedSince(time.addingTimeInterval(-day), reporter: reporter, on: database)
        guard filedToday < ReportRules.maxReportsPerDay else {
            return .failure(
                RequestFailed(
                    code: .tooManyRequests, detail: "at most \(ReportRules.maxReportsPerDay) reports a day",
                    retryAfterSeconds: 3600))
        }
        // The same answer as for a missing profile whether the user was deleted or never existed.
        guard try ProfileStore.find(userID: target, on: database) != nil else {
            return .failure(RequestFailed(code: .notFound, detail: "no such user"))
        }
        let id = UUID.random()
        guard
            try ReportStore.insert(
                id: id, reporter: reporter, target: target, reason: reason, detail: detail, at: time, on: database)
        else {
            return .failure(RequestFailed(code: .conflict, detail: "you already have an open report about this user"))
        }
        let reported = UserReported(
            reportId: id, reporterId: reporter, userId: target, reason: reason, reportedAt: time)
        try Outbox.append(
            Envelope(causedBy: request, source: .profile, time: time, subject: target.uuidString, data: reported),
            on: database)
        try Self.applyAutomaticAction(to: target, causedBy: request, at: time, on: database)
        return .success(reported)
    }

    static func applyAutomaticAction<Cause: Event>(
        to target: UUID, causedBy cause: Envelope<Cause>, at time: Date, on database: DatabaseConnection
    ) throws {
        let window = TimeInterval(ReportRules.windowDays) * 24 * 3600
        let counted = try ReportStore.countedOpenReports(about: target, since: time - window, on: database)
        guard let current = try ProfileStore.find(userID: target, on: database),
            let next = ReportPolicy.automaticAction(
                countedReporters: counted.reporters, countedUnderageReport: counted.underage,
                current: current.moderation)
        else { return }
        let reason = next == .suspended ? "reported by several people: pending review" : "held for review"
        try ProfileChanges.moderate(target, to: next, reason: reason, causedBy: cause, at: time, on: database)
    }
}
