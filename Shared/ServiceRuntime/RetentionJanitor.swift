import Logging
import Persistence
import ServiceLifecycle

/// Deletes expired rows (the shared tables' and a service's own), once an hour.
package struct RetentionJanitor: Service {
    let pool: DatabasePool
    let expiring: [ExpiringRows]
    let logger: Logger

    package init(pool: DatabasePool, expiring: [ExpiringRows], logger: Logger) {
        self.pool = pool
        self.expiring = expiring
        self.logger = logger
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                // Cancelled at shutdown: the loop then ends instead of failing the group.
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }

    package func sweep() async {
        for rows in expiring {
            do {
                let deleted = try await pool.transaction { connection in
                    try RetentionStore.deleteExpired(rows, on: connection)
                }
                if deleted > 0 {
                    logger.info("expired rows deleted", metadata: ["table": "\(rows.table)", "rows": "\(deleted)"])
                }
            } catch {
                logger.warning("cannot delete expired rows", metadata: ["table": "\(rows.table)", "error": "\(error)"])
            }
        }
    }
}
