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
        let key = Self.key(messageKey)
        try await pool.withConnection { connection in
            try RedeliveryStore.clear(queue: queue, messageKey: key, on: connection)
        }
    }

    package func recordRedelivery(queue: String, messageKey: String) async throws -> Int {
        let key = Self.key(messageKey)
        return try await pool.withConnection { connection in
            try RedeliveryStore.record(queue: queue, messageKey: key, on: connection)
        }
    }

    /// A message id is whatever the publisher wrote: bounded before it becomes a key.
    private static func key(_ messageKey: String) -> String { String(messageKey.prefix(200)) }
}
