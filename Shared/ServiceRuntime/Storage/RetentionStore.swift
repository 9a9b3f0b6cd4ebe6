import Persistence

/// The janitor's SQL: deletes the rows of any table that expired.
enum RetentionStore {
    /// Deletes the expired rows of `rows.table` inside the caller's transaction; returns how
    /// many. Table and column are constants of the code (`ExpiringRows`), never input.
    static func deleteExpired(_ rows: ExpiringRows, on connection: DatabaseConnection) throws -> Int {
        // One sweep of a large table may take longer than a request's statement timeout.
        try connection.execute("SET LOCAL statement_timeout = 0")
        return try connection.execute(
            "DELETE FROM \(rows.table) WHERE \(rows.column) < now() - make_interval(secs => $1)",
            [rows.retention.components.seconds]
        ).affectedRows
    }
}
