import Contracts
import Foundation

/// The rules of reports and of the action they cause on their own, without I/O.
public enum ReportPolicy {
    /// Checks a report's reason and detail; the reason as the contract names it.
    public static func validate(reason: String, detail: String?, reporter: UUID, target: UUID) -> Result<
        (ReportReason, String?), RequestFailed
    > {
        var errors: [FieldError] = []
        let parsed = ReportReason(rawValue: reason)
        if parsed == nil {
            errors.append(
                FieldError(
                    field: "reason",
                    message: "must be one of \(ReportReason.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        let trimmed = detail?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let trimmed, trimmed.count > ReportRules.detailMaxLength {
            errors.append(
                FieldError(field: "detail", message: "must be at most \(ReportRules.detailMaxLength) characters"))
        }
        if reporter == target { errors.append(FieldError(field: "userId", message: "you cannot report yourself")) }
        guard errors.isEmpty, let parsed else {
            return .failure(
                RequestFailed(code: .validationFailed, detail: "the report is not valid", fieldErrors: errors))
        }
        return .success((parsed, trimmed?.isEmpty == true ? nil : trimmed))
    }

    /// Whether a reporter's reports count toward automatic action: not once at least
    /// `ReportRules.minimumResolvedToJudge` of them were resolved and at least
    /// `ReportRules.dismissedShareIgnored` of those dismissed.
    public static func counts(resolved: Int, dismissed: Int) -> Bool {
        guard resolved >= ReportRules.minimumResolvedToJudge else { return true }
        return Double(dismissed) / Double(resolved) < ReportRules.dismissedShareIgnored
    }

    /// What the standing reports about a user (open or actioned, in the window) do on their
    /// own, given their distinct counted reporters and whether an open counted one says `underage`.
    public static func automaticAction(
        countedReporters: Int, countedUnderageReport: Bool, current: ModerationState
    ) -> ModerationState? {
        switch current {
        case .suspended, .banned: return nil
        case .none, .held:
            if countedReporters >= ReportRules.reportersToSuspend { return .suspended }
            if countedUnderageReport, current == .none { return .held }
            return nil
        }
    }

    /// Where a moderator's action leaves a user, and the status of the report it decides.
    public static func outcome(of action: ModerationAction, current: ModerationState) -> (
        state: ModerationState, reportStatus: String
    ) {
        switch action {
        case .dismiss: (current, "dismissed")
        case .warn: (current, "actioned")
        case .suspend: (current == .banned ? .banned : .suspended, "actioned")
        case .ban: (.banned, "actioned")
        // Lifting what moderation did means the report did not hold up.
        case .reinstate: (.none, "dismissed")
        }
    }
}
