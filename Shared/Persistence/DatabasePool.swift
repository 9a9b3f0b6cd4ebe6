import Foundation
import Logging
import Synchronization

/// A fixed-size pool of libpq connections.
///
/// Configure it with a standard libpq connection string (keyword/value or URI), so `PG*`
/// variables, `.pgpass`, `sslmode` and multi-host strings work as operators expect.
/// Connections open lazily and reconnect after a failure. Every blocking libpq call runs
/// on the lent connection's own dispatch queue, never on Swift's cooperative pool.
public final class DatabasePool: Sendable {
    public let size: Int
    /// How long a caller waits for a free connection before it fails (as a connection
    /// error: the caller answers 503 or retries in place, instead of queueing forever).
    public let acquireTimeout: Duration
    private let state: Mutex<State>
    private let logger: Logger

    private struct State {
        var idle: [DatabaseConnection]
        var waiters: [(UUID, CheckedContinuation<DatabaseConnection, any Error>)] = []
        var isClosed = false
    }

    public init(
        connectionString: String, size: Int = 4, name: String = "db", logger: Logger,
        defaults: ConnectionDefaults = ConnectionDefaults(), acquireTimeout: Duration = .seconds(5)
    ) {
        self.size = max(1, size)
        self.logger = logger
        self.acquireTimeout = acquireTimeout
        let connections = (0..<max(1, size)).map {
            DatabaseConnection(connectionString: connectionString, defaults: defaults, label: "\(name)-\($0)")
        }
        self.state = Mutex(State(idle: connections))
    }

    /// Lends a connection to `body` on a thread of its own, reconnecting it first if
    /// needed. The connection returns to the pool afterwards.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (DatabaseConnection) throws -> T
    ) async throws -> T {
        let connection = try await acquire()
        return try await withCheckedThrowingContinuation { continuation in
            connection.queue.async {
                let outcome: Result<T, any Error>
                do {
                    try connection.ensureConnected()
                    outcome = .success(try body(connection))
                } catch {
                    outcome = .failure(error)
                }
                // Released here, on the connection's own thread, before the caller is resumed:
                // a caller waiting for a connection gets it now, not once this task runs again.
                self.release(connection)
                continuation.resume(with: outcome)
            }
        }
    }

    /// Runs `body` inside one transaction: committed if it returns, rolled back if it
    /// throws.
    @discardableResult
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (DatabaseConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            // BEGIN goes out with the first statement, in one round trip (and not at all if
            // `body` runs none); `executeAndCommit` sends COMMIT with the last one.
            connection.beginTransaction()
            do {
                let value = try body(connection)
                try connection.commitTransaction()
                return value
            } catch {
                connection.rollbackTransaction()
                throw error
            }
        }
    }

    /// Whether the database answers now (for `/ready`).
    public func isReachable() async -> Bool {
        (try? await withConnection { try $0.execute("SELECT 1") }) != nil
    }

    /// Fails waiting callers; connections close as they are released.
    public func close() {
        let waiters = state.withLock { state in
            state.isClosed = true
            let waiters = state.waiters
            state.waiters = []
            state.idle = []
            return waiters
        }
        for (_, waiter) in waiters {
            waiter.resume(throwing: DatabaseError(kind: .connection, sqlState: nil, message: "pool closed"))
        }
    }

    private func acquire() async throws -> DatabaseConnection {
        let ticket = UUID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let lent: Result<DatabaseConnection, DatabaseError>? = state.withLock { state in
                    if state.isClosed {
                        return .failure(DatabaseError(kind: .connection, sqlState: nil, message: "pool closed"))
                    }
                    if let connection = state.idle.popLast() { return .success(connection) }
                    state.waiters.append((ticket, continuation))
                    return nil
                }
                if let lent {
                    continuation.resume(with: lent)
                } else {
                    giveUpWaiting(ticket, after: acquireTimeout)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.0 == ticket }.map { state.waiters.remove(at: $0).1 }
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Fails the waiter `ticket` if it still waits after `timeout` (only a caller that had
    /// to wait pays for this timer).
    private func giveUpWaiting(_ ticket: UUID, after timeout: Duration) {
        let size = size
        Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard let self else { return }
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.0 == ticket }.map { state.waiters.remove(at: $0).1 }
            }
            waiter?.resume(
                throwing: DatabaseError(
                    kind: .connection, sqlState: nil,
                    message: "no database connection came free within \(timeout) (pool of \(size))"))
        }
    }

    private func release(_ connection: DatabaseConnection) {
        let waiter: CheckedContinuation<DatabaseConnection, any Error>? = state.withLock { state in
            if state.isClosed { return nil }
            if state.waiters.isEmpty {
                state.idle.append(connection)
                return nil
            }
            return state.waiters.removeFirst().1
        }
        waiter?.resume(returning: connection)
    }
}
