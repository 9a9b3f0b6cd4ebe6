import Messaging
import Persistence
import Synchronization

/// Whether a service can do its work now: broker connections up, database reachable,
/// migrations applied. `/ready` answers from it.
///
/// The answer is kept for `cacheFor` (1 s): probes come from outside, and each check takes
/// a pooled database connection, so a flood of `/ready` calls must not take the pool away
/// from the work.
public final class Readiness: Sendable {
    private let connections: [AMQPConnection]
    private let pool: DatabasePool
    private let cacheFor: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let started = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let cached = Mutex<(problems: [String], at: ContinuousClock.Instant)?>(nil)
    private let checking = Mutex<Task<[String], Never>?>(nil)

    public init(
        connections: [AMQPConnection], pool: DatabasePool, cacheFor: Duration = .seconds(1),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.connections = connections
        self.pool = pool
        self.cacheFor = cacheFor
        self.now = now
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

    /// The reasons the service is not ready; empty when it is. At most `cacheFor` old, and
    /// callers that find it stale share one check rather than each taking a connection.
    public func problems() async -> [String] {
        if let recent = cached.withLock({ $0 }), now() - recent.at < cacheFor { return recent.problems }
        let check = checking.withLock { running -> Task<[String], Never> in
            if let running { return running }
            let started = Task { await self.check() }
            running = started
            return started
        }
        let problems = await check.value
        checking.withLock { running in
            if running == check { running = nil }
        }
        // Stamped when the answer is known: a check that waited for a busy pool is not stale
        // the moment it is stored.
        cached.withLock { $0 = (problems, now()) }
        return problems
    }

    private func check() async -> [String] {
        var problems: [String] = []
        if !isStarted { problems.append("starting: topology or migrations not applied yet") }
        for connection in connections where !connection.isConnected {
            problems.append("broker: \(connection.lastError)")
        }
        if !(await pool.isReachable()) { problems.append("database unreachable") }
        return problems
    }
}
