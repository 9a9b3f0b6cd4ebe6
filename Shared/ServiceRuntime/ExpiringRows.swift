/// Rows of one table that expire: those whose `column` (a timestamp) is older than
/// `retention`. Table and column are constants of the code, never input.
public struct ExpiringRows: Sendable {
    public let table: String
    public let column: String
    public let retention: Duration

    public init(table: String, column: String, retention: Duration) {
        self.table = table
        self.column = column
        self.retention = retention
    }

    /// Published outbox rows are the archive events are replayed from; inbox rows must
    /// outlive any replay of an archived event, so both share one retention.
    static func sharedTables(retention: Duration) -> [ExpiringRows] {
        [
            ExpiringRows(table: "outbox", column: "published_at", retention: retention),
            ExpiringRows(table: "inbox", column: "processed_at", retention: retention),
            ExpiringRows(table: "redeliveries", column: "last_at", retention: retention),
        ]
    }
}
