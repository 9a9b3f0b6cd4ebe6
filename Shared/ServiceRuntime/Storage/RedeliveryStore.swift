import Persistence

/// The SQL of the shared `redeliveries` table (`RedeliveryCounter`).
enum RedeliveryStore {
    /// Counts one more redelivery of a message; returns the count, this one included.
    static func record(queue: String, messageKey: String, on connection: DatabaseConnection) throws -> Int {
        try connection.execute(
            prepared: """
                INSERT INTO redeliveries (queue, message_key, count) VALUES ($1, $2, 1)
                ON CONFLICT (queue, message_key) DO UPDATE
                    SET count = redeliveries.count + 1, last_at = now()
                RETURNING count
                """, [queue, messageKey]
        ).first?.int("count") ?? 1
    }

    static func clear(queue: String, messageKey: String, on connection: DatabaseConnection) throws {
        try connection.execute(
            "DELETE FROM redeliveries WHERE queue = $1 AND message_key = $2", [queue, messageKey])
    }
}
