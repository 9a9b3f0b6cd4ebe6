import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `ReportDecisionRequested` → the report decided, an audit row with the note,
/// `ReportDecided`, and the user's new moderation state with its event
/// (`ProfileChanges.moderate`). A suspension, ban or reinstatement closes the user's other
/// open reports as `superseded`. A review hold ends with a reinstatement, or with a
/// dismissal once no open `underage` report is left; a warning keeps it.
///
/// The profile is locked before the outcome is worked out, so two moderators deciding
/// about one user at once are applied one after the other, each on the state the other left.
struct ReportDecisionRequestedHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<ReportDecisionRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<ReportDecided, RequestFailed> {
        var errors: [FieldError] = []
        let action = ModerationAction(rawValue: request.data.action)
        if action == nil {
            errors.append(
                FieldError(
                    field: "action",
                    message: "must be one of \(ModerationAction.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        let note = request.data.note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let note, note.count > ReportRules.noteMaxLength {
            errors.append(FieldError(field: "note", message: "must be at most \(ReportRules.noteMaxLength) characters"))
        }
        guard errors.isEmpty, let action else {
            return .failure(
                RequestFailed(code: .validationFailed, detail: "the decision is not valid", fieldErrors: errors))
        }
        guard let report = try ReportStore.lock(id: request.data.reportId, on: database) else {
            return .failure(RequestFailed(code: .notFound, detail: "no such report"))
        }
        // A closed report may still be the one a reinstatement is recorded against (an appeal).
        guard report.status == "open" || action == .reinstate else {
            return .failure(RequestFailed(code: .conflict, detail: "this report was already decided"))
        }
        let time = now()
        let target = report.userId
        let current = try ProfileStore.lock(userID: target, on: database)?.moderation ?? .none
        let outcome = ReportPolicy.outcome(of: action, current: current)
        try ReportStore.resolve(
            id: report.reportId, status: report.status == "open" ? outcome.reportStatus : nil, decision: action,
            at: time, on: database)
        if [.suspend, .ban, .reinstate].contains(action) {
            try ReportStore.supersedeOpen(about: target, decision: action, at: time, on: database)
        }
        let decisionID = UUID.random()
        try ReportStore.recordDecision(
            id: decisionID, report: report.reportId, target: target, moderator: request.data.moderatorId,
            action: action, note: note?.isEmpty == true ? nil : note, at: time, on: database)
        let decided = ReportDecided(
            decisionId: decisionID, reportId: report.reportId, userId: target, moderatorId: request.data.moderatorId,
            action: action, decidedAt: time)
        try Outbox.append(
            Envelope(causedBy: request, source: .profile, time: time, subject: target.uuidString, data: decided),
            on: database)
        var next = outcome.state
        if next == .held, action == .dismiss {
            let window = TimeInterval(ReportRules.windowDays) * 24 * 3600
            let counted = try ReportStore.countedReports(about: target, since: time - window, on: database)
            if !counted.openUnderage { next = .none }
        }
        try ProfileChanges.moderate(
            target, to: next, reason: "moderator decision: \(action.rawValue)", causedBy: request, at: time,
            on: database)
        return .success(decided)
    }
}
