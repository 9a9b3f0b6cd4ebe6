import Messaging
import Persistence
import Synchronization

/// Whether a service can do its work now: broker connections up, database reachable,
/// migrations applied. `/ready` answers from it.
public final class Readiness: Sendable {
    private let connections: [AMQPConnection]
    private let pool: DatabasePool
    private let started = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init(connections: [AMQPConnection], pool: DatabasePool) {
        self.connections = connections
        self.pool = pool
    }

    /// Start-up is over: topology declared and migrations applied.
    public func markStarted() {
        let waiters = started.withLock { state in
            state.done = true
            let waiters = state.waiters
            state.waiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    public var isStarted: Bool { started.withLock { $0.done } }

    /// Waits until start-up is over; consumers and the outbox relay begin only then.
    public func waitUntilStarted() async {
        await withCheckedContinuation { continuation in
            let done = started.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    /// The reasons the service is not ready; empty when it is.
    public func problems() async -> [String] {
        var problems: [String] = []
        if !isStarted { problems.append("starting: topology or migrations not applied yet") }
        for connection in connections where !connection.isConnected {
            problems.append("broker: \(connection.lastError)")
        }
        if !(await pool.isReachable()) { problems.append("database unreachable") }
        return problems
    }
}
