import Contracts
import Foundation
import Persistence

/// The SQL of `reports` and `moderation_decisions`.
enum ReportStore {
    private static let columns =
        "id, reporter_id, target_id, reason, detail, status, reported_at, decision, decided_at"

    /// Files a report; false if this reporter already has an open one about this user.
    static func insert(
        id: UUID, reporter: UUID, target: UUID, reason: ReportReason, detail: String?, at time: Date,
        on connection: DatabaseConnection
    ) throws -> Bool {
        try connection.execute(
            prepared: """
                INSERT INTO reports (id, reporter_id, target_id, reason, detail, reported_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (reporter_id, target_id) WHERE status = 'open' DO NOTHING
                """, [id, reporter, target, reason.rawValue, detail, time]
        ).affectedRows == 1
    }

    /// The reports a reporter filed since `time`.
    static func filedSince(_ time: Date, reporter: UUID, on connection: DatabaseConnection) throws -> Int {
        try connection.execute(
            prepared: "SELECT count(*) AS n FROM reports WHERE reporter_id = $1 AND reported_at > $2",
            [reporter, time]
        ).first?.int("n") ?? 0
    }

    /// The open reports about `target` since `time` whose reporters count toward automatic
    /// action (`ReportPolicy.counts`): their distinct reporters, and whether one says underage.
    static func countedOpenReports(about target: UUID, since time: Date, on connection: DatabaseConnection) throws
        -> (reporters: Int, underage: Bool)
    {
        let row = try connection.execute(
            prepared: """
                WITH judged AS (
                    SELECT reporter_id, count(*) FILTER (WHERE status <> 'open') AS resolved,
                        count(*) FILTER (WHERE status = 'dismissed') AS dismissed
                    FROM reports WHERE reporter_id IN (
                        SELECT reporter_id FROM reports
                        WHERE target_id = $1 AND status = 'open' AND reported_at > $2)
                    GROUP BY reporter_id
                )
                SELECT r.reporter_id::text AS reporter, r.reason, j.resolved, j.dismissed
                FROM reports r JOIN judged j USING (reporter_id)
                WHERE r.target_id = $1 AND r.status = 'open' AND r.reported_at > $2
                """, [target, time])
        var reporters = Set<String>()
        var underage = false
        for row in row.rows {
            guard let reporter = row.string("reporter"),
                ReportPolicy.counts(resolved: row.int("resolved") ?? 0, dismissed: row.int("dismissed") ?? 0)
            else { continue }
            reporters.insert(reporter)
            if row.string("reason") == ReportReason.underage.rawValue { underage = true }
        }
        return (reporters.count, underage)
    }

    static func find(id: UUID, on connection: DatabaseConnection) throws -> ReportSummary? {
        try connection.execute(prepared: "SELECT \(columns) FROM reports WHERE id = $1 FOR UPDATE", [id]).first
            .flatMap { summary($0, counted: true) }
    }

    /// Reports by status (`all` for every one), oldest first, with whether each reporter counts.
    static func list(status: String, limit: Int, on connection: DatabaseConnection) throws -> [ReportSummary] {
        let rows = try connection.execute(
            prepared: """
                SELECT r.id, r.reporter_id, r.target_id, r.reason, r.detail, r.status, r.reported_at, r.decision,
                    r.decided_at, coalesce(j.resolved, 0) AS resolved, coalesce(j.dismissed, 0) AS dismissed
                FROM reports r
                LEFT JOIN (
                    SELECT reporter_id, count(*) FILTER (WHERE status <> 'open') AS resolved,
                        count(*) FILTER (WHERE status = 'dismissed') AS dismissed
                    FROM reports GROUP BY reporter_id
                ) j ON j.reporter_id = r.reporter_id
                WHERE $1 = 'all' OR r.status = $1
                ORDER BY r.reported_at, r.id
                LIMIT $2::integer
                """, [status, limit])
        return rows.rows.compactMap { row in
            summary(
                row,
                counted: ReportPolicy.counts(resolved: row.int("resolved") ?? 0, dismissed: row.int("dismissed") ?? 0))
        }
    }

    /// Resolves a report.
    static func resolve(
        id: UUID, status: String, decision: ModerationAction, at time: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            prepared: "UPDATE reports SET status = $2, decision = $3, decided_at = $4 WHERE id = $1",
            [id, status, decision.rawValue, time])
    }

    /// Resolves the other open reports about a user the same way (a suspension or ban
    /// answers them all; a reinstatement dismisses them).
    static func resolveOpen(
        about target: UUID, status: String, decision: ModerationAction, at time: Date,
        on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            prepared: """
                UPDATE reports SET status = $2, decision = $3, decided_at = $4 WHERE target_id = $1 AND status = 'open'
                """, [target, status, decision.rawValue, time])
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
    /// about others stay, without the reporter.
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
