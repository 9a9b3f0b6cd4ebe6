import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `ReportFiled` → a report (one open per reporter and user; at most
/// `ReportRules.maxReportsPerDay` in 24 hours per reporter), `UserReported` published and
/// answered, then the automatic action the standing reports call for (`ReportPolicy`):
/// suspension after reports from 3 counted reporters in 30 days, a review hold after an
/// open `underage` one.
///
/// A report about a user there is not is answered, limited and refused as a duplicate
/// exactly like a real one, and kept as `void` (never shown, never acted on): the answer is
/// no way to learn whether an account exists. The reporter's reports and the target's
/// profile are locked first, so that reports at the same moment are counted one after the other.
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
        try ReportStore.lockReporter(reporter, on: database)
        let day: TimeInterval = 24 * 3600
        let filed = try ReportStore.filedSince(time - day, reporter: reporter, on: database)
        if filed.count >= ReportRules.maxReportsPerDay {
            let freed = (filed.oldest ?? time) + day
            return .failure(
                RequestFailed(
                    code: .tooManyRequests, detail: "at most \(ReportRules.maxReportsPerDay) reports a day",
                    retryAfterSeconds: max(1, Int(freed.timeIntervalSince(time).rounded(.up)))))
        }
        let exists = try ProfileStore.lock(userID: target, on: database) != nil
        let id = UUID.random()
        guard
            try ReportStore.insert(
                id: id, reporter: reporter, target: target, reason: reason, detail: detail, void: !exists, at: time,
                on: database)
        else {
            return .failure(RequestFailed(code: .conflict, detail: "you already have an open report about this user"))
        }
        let reported = UserReported(
            reportId: id, reporterId: reporter, userId: target, reason: reason, reportedAt: time)
        guard exists else { return .success(reported) }
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
        let counted = try ReportStore.countedReports(about: target, since: time - window, on: database)
        guard let current = try ProfileStore.lock(userID: target, on: database),
            let next = ReportPolicy.automaticAction(
                countedReporters: counted.reporters, countedUnderageReport: counted.openUnderage,
                current: current.moderation)
        else { return }
        let reason = next == .suspended ? "reported by several people: pending review" : "held for review"
        try ProfileChanges.moderate(target, to: next, reason: reason, causedBy: cause, at: time, on: database)
    }
}
