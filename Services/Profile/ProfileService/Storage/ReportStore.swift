import Contracts
import Foundation
import Persistence

/// The SQL of `reports` and `moderation_decisions`.
enum ReportStore {
    private static let columns =
        "id, reporter_id, target_id, reason, detail, status, reported_at, decision, decided_at"

    /// What a reporter's record counts (`ReportPolicy.counts`): superseded and void reports
    /// say nothing of the reporter.
    private static let record = """
        SELECT reporter_id, count(*) FILTER (WHERE status IN ('dismissed', 'actioned')) AS resolved,
            count(*) FILTER (WHERE status = 'dismissed') AS dismissed
        FROM reports
        """

    /// Holds the reporter's reports still until the transaction ends, so that two reports
    /// of one reporter at once are counted one after the other.
    static func lockReporter(_ reporter: UUID, on connection: DatabaseConnection) throws {
        try connection.lockUntilTransactionEnds("reports-of:\(reporter.uuidString)")
    }

    /// Files a report, `open` or, about a user there is not, `void`; false if this
    /// reporter already has an open (or void) one about this user.
    static func insert(
        id: UUID, reporter: UUID, target: UUID, reason: ReportReason, detail: String?, void: Bool, at time: Date,
        on connection: DatabaseConnection
    ) throws -> Bool {
        try connection.execute(
            prepared: """
                INSERT INTO reports (id, reporter_id, target_id, reason, detail, status, reported_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (reporter_id, target_id) WHERE status IN ('open', 'void') DO NOTHING
                """, [id, reporter, target, reason.rawValue, detail, void ? "void" : "open", time]
        ).affectedRows == 1
    }

    /// The reports a reporter filed after `time`, and the oldest of them.
    static func filedSince(_ time: Date, reporter: UUID, on connection: DatabaseConnection) throws -> (
        count: Int, oldest: Date?
    ) {
        let row = try connection.execute(
            prepared: """
                SELECT count(*) AS n, min(reported_at) AS oldest FROM reports WHERE reporter_id = $1 AND reported_at > $2
                """, [reporter, time]
        ).first
        return (row?.int("n") ?? 0, row?.date("oldest"))
    }

    /// The reports about `target` since `time` that stand (open or actioned) from reporters
    /// who count: their distinct reporters, and whether an open one says underage.
    static func countedReports(about target: UUID, since time: Date, on connection: DatabaseConnection) throws
        -> (reporters: Int, openUnderage: Bool)
    {
        let rows = try connection.execute(
            prepared: """
                WITH judged AS (
                    \(record)
                    WHERE reporter_id IN (
                        SELECT reporter_id FROM reports
                        WHERE target_id = $1 AND status IN ('open', 'actioned') AND reported_at > $2)
                    GROUP BY reporter_id
                )
                SELECT r.reporter_id::text AS reporter, r.reason, r.status, j.resolved, j.dismissed
                FROM reports r JOIN judged j USING (reporter_id)
                WHERE r.target_id = $1 AND r.status IN ('open', 'actioned') AND r.reported_at > $2
                """, [target, time])
        var reporters = Set<String>()
        var underage = false
        for row in rows.rows {
            guard let reporter = row.string("reporter"),
                ReportPolicy.counts(resolved: row.int("resolved") ?? 0, dismissed: row.int("dismissed") ?? 0)
            else { continue }
            reporters.insert(reporter)
            if row.string("reason") == ReportReason.underage.rawValue, row.string("status") == "open" {
                underage = true
            }
        }
        return (reporters.count, underage)
    }

    /// A report a moderator may decide (not a void one), locked until the transaction ends.
    static func lock(id: UUID, on connection: DatabaseConnection) throws -> ReportSummary? {
        try connection.execute(
            prepared: "SELECT \(columns) FROM reports WHERE id = $1 AND status <> 'void' FOR UPDATE", [id]
        ).first.flatMap { summary($0, counted: true) }
    }

    /// Reports by status (`all` for every one but void ones), oldest first, with whether
    /// each reporter counts.
    static func list(status: String, limit: Int, on connection: DatabaseConnection) throws -> [ReportSummary] {
        let rows = try connection.execute(
            prepared: """
                SELECT r.id, r.reporter_id, r.target_id, r.reason, r.detail, r.status, r.reported_at, r.decision,
                    r.decided_at, coalesce(j.resolved, 0) AS resolved, coalesce(j.dismissed, 0) AS dismissed
                FROM reports r
                LEFT JOIN (\(record) GROUP BY reporter_id) j ON j.reporter_id = r.reporter_id
                WHERE r.status <> 'void' AND ($1 = 'all' OR r.status = $1)
                ORDER BY r.reported_at, r.id
                LIMIT $2::integer
                """, [status, limit])
        return rows.rows.compactMap { row in
            summary(
                row,
                counted: ReportPolicy.counts(resolved: row.int("resolved") ?? 0, dismissed: row.int("dismissed") ?? 0))
        }
    }

    /// Decides a report: its status (nil keeps it) and the decision.
    static func resolve(
        id: UUID, status: String?, decision: ModerationAction, at time: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            prepared: """
                UPDATE reports SET status = coalesce($2, status), decision = $3, decided_at = $4 WHERE id = $1
                """, [id, status, decision.rawValue, time])
    }

    /// Closes the other open reports about a user as `superseded` (a suspension, ban or
    /// reinstatement settled the user's case; they were not judged one by one).
    static func supersedeOpen(
        about target: UUID, decision: ModerationAction, at time: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            prepared: """
                UPDATE reports SET status = 'superseded', decision = $2, decided_at = $3
                WHERE target_id = $1 AND status = 'open'
                """, [target, decision.rawValue, time])
    }

    static func recordDecision(
        id: UUID, report: UUID, target: UUID, moderator: UUID, action: ModerationAction, note: String?,
        at time: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            prepared: """
                INSERT INTO moderation_decisions (id, report_id, target_id, moderator_id, action, note, decided_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, [id, report, target, moderator, action.rawValue, note, time])
    }

    /// Account deletion: reports about the user and their audit go; reports the user filed
    /// about others stay, without the reporter, and decisions they made as a moderator keep
    /// no moderator.
    static func erase(userID: UUID, on connection: DatabaseConnection) throws {
        try connection.execute(prepared: "DELETE FROM reports WHERE target_id = $1", [userID])
        try connection.execute(prepared: "UPDATE reports SET reporter_id = NULL WHERE reporter_id = $1", [userID])
        try connection.execute(
            prepared: "UPDATE moderation_decisions SET moderator_id = NULL WHERE moderator_id = $1", [userID])
    }

    private static func summary(_ row: Row, counted: Bool) -> ReportSummary? {
        guard let id = row.uuid("id"), let target = row.uuid("target_id"),
            let reason = row.string("reason").flatMap(ReportReason.init(rawValue:)), let status = row.string("status"),
            let reportedAt = row.date("reported_at")
        else { return nil }
        return ReportSummary(
            reportId: id, reporterId: row.uuid("reporter_id"), userId: target, reason: reason,
            detail: row.string("detail"), status: status, reportedAt: reportedAt, reporterCounted: counted,
            decision: row.string("decision").flatMap(ModerationAction.init(rawValue:)),
            decidedAt: row.date("decided_at"))
    }
}
