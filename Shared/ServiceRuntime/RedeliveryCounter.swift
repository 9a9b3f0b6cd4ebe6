import Messaging
import Persistence

/// Counts redeliveries in the service's own database (`redeliveries`), so the count
/// survives the crash it is there to catch: a message that kills its consumer comes back
/// once per restart, and after `ConsumerLimits.redeliveryLimit` of them in a row it goes to
/// `.dead`. Settling the message in any way clears its count.
package struct RedeliveryCounter: RedeliveryLedger {
    let pool: DatabasePool

    package init(pool: DatabasePool) { self.pool = pool }

    package func clearRedeliveries(queue: String, messageKey: String) async throws {
        let key = String(messageKey.prefix(200))
        try await pool.withConnection { connection in
            try connection.execute("DELETE FROM redeliveries WHERE queue = $1 AND message_key = $2", [queue, key])
        }
    }

    package func recordRedelivery(queue: String, messageKey: String) async throws -> Int {
        // A message id is whatever the publisher wrote: bounded before it becomes a key.
        let key = String(messageKey.prefix(200))
        return try await pool.withConnection { connection in
            try connection.execute(
                """
                INSERT INTO redeliveries (queue, message_key, count) VALUES ($1, $2, 1)
                ON CONFLICT (queue, message_key) DO UPDATE
                    SET count = redeliveries.count + 1, last_at = now()
                RETURNING count
                """, [queue, key]
            ).first?.int("count") ?? 1
        }
    }
}
