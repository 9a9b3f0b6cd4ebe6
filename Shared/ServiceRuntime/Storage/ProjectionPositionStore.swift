import Persistence

/// The SQL of the shared `projection_positions` table.
enum ProjectionPositionStore {
    /// Moves the position forward; false when it already was at `sequence` or beyond.
    static func advance(
        projection: String, aggregate: String, to sequence: Int64, on connection: DatabaseConnection
    ) throws -> Bool {
        try connection.execute(
            """
            INSERT INTO projection_positions (projection, aggregate, sequence) VALUES ($1, $2, $3)
            ON CONFLICT (projection, aggregate) DO UPDATE SET sequence = EXCLUDED.sequence
            WHERE projection_positions.sequence < EXCLUDED.sequence
            """, [projection, aggregate, sequence]
        ).affectedRows == 1
    }
}
