import Contracts
import Crypto
import Foundation
import Synchronization

/// Failed logins per account: at most `limit` per sliding `window`, after which the account
/// key is locked until its oldest counted failure leaves the window. The per-address rate
/// limit slows one client down; this one stops many addresses guessing one password.
///
/// Decisions:
/// - A successful login clears the account's failures: the user who finally remembers the
///   password should not carry strikes, and only someone with the password can clear them.
/// - `attempt` counts an attempt as failed before the password is checked, in the same
///   lock as the decision: with a separate check and a `recordFailure` after bcrypt (about
///   a quarter of a second), a burst of concurrent guesses would all pass the check.
///   Whatever ends the attempt without `recordSuccess` (a wrong password, an unknown
///   e-mail, a database error) stays counted.
/// - Only the newest `limit` failures are kept per key, so failures recorded while locked
///   extend the lock instead of growing memory.
/// - Memory is bounded: keys whose failures have all left the window are forgotten (at
///   most once a minute over the whole table, and whenever a key is read), and at most
///   `maximumKeys` are held; when full, the tenth with the oldest last failure goes in one
///   pass, so a flood of new keys costs one sort per tenth of the table, not one per
///   request. Eviction can unlock an account — the attacker needs a tenth of the table's
///   worth of fresh requests first, which the per-address rate limit slows, and the
///   accounts under attack right now have the newest failures and go last.
/// - Counts are per gateway instance (in memory), like `RateLimiter`'s.
/// - Locking an account is also what an attacker who knows the e-mail can do to its owner,
///   for one window at a time: the price of counting per account.
public final class FailedLoginLimiter: Sendable {
    public enum Decision: Equatable, Sendable {
        case allowed
        /// Refused; the next failure leaves the window after this many whole seconds.
        case locked(retryAfter: Int)
    }

    public let limit: Int
    public let window: TimeInterval
    public let maximumKeys: Int
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    private struct State {
        /// Per key, the times of its newest failures (at most `limit`), in the order recorded.
        var failures: [String: [Date]] = [:]
        var lastSweep = Date.distantPast
    }

    public init(
        limit: Int = 10, window: TimeInterval = 15 * 60, maximumKeys: Int = 100_000,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        precondition(limit >= 1 && window > 0 && maximumKeys >= 1, "limit, window and maximumKeys must be positive")
        self.limit = limit
        self.window = window
        self.maximumKeys = maximumKeys
        self.now = now
    }

    /// Whether `key` may try to log in now; changes nothing but forgetting old failures.
    public func check(_ key: String) -> Decision {
        let time = now()
        return state.withLock { state in
            sweepIfDue(&state, at: time)
            return decision(recentFailures(of: key, in: &state, at: time), at: time)
        }
    }

    /// Whether `key` may try to log in now and, if so, counts this attempt as a failure
    /// until `recordSuccess` says otherwise. Use this, not `check` and `recordFailure`, in
    /// the login handler (see the type's documentation); do not also call `recordFailure`.
    public func attempt(_ key: String) -> Decision {
        let time = now()
        return state.withLock { state in
            sweepIfDue(&state, at: time)
            let verdict = decision(recentFailures(of: key, in: &state, at: time), at: time)
            if verdict == .allowed { record(key, in: &state, at: time) }
            return verdict
        }
    }

    /// Counts one failed login of `key`.
    public func recordFailure(_ key: String) {
        let time = now()
        state.withLock { state in
            sweepIfDue(&state, at: time)
            _ = recentFailures(of: key, in: &state, at: time)
            record(key, in: &state, at: time)
        }
    }

    /// Forgets `key`'s failures: the password was right.
    public func recordSuccess(_ key: String) {
        _ = state.withLock { $0.failures.removeValue(forKey: key) }
    }

    /// How many keys are held now (for tests and metrics).
    public var trackedKeys: Int { state.withLock { $0.failures.count } }

    /// The key of an account: an HMAC-SHA256 of its normalised e-mail, so the table never
    /// holds an address. The HMAC key is random per process — a plain hash of an e-mail is
    /// undone by hashing a list of e-mails — which is enough, as the table itself lives
    /// only as long as the process.
    public static func key(forEmail normalised: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(normalised.utf8), using: SymmetricKey(data: keySecret))
        return "login:" + Hex.encode(code)
    }

    /// Kept as bytes: `SymmetricKey` is not `Sendable`, a static must be.
    private static let keySecret: [UInt8] = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }

    // MARK: Inside the lock

    private func decision(_ failures: [Date], at time: Date) -> Decision {
        // `min`, not `first`: the wall clock can step back.
        guard failures.count >= limit, let oldest = failures.min() else { return .allowed }
        let wait = oldest.addingTimeInterval(window).timeIntervalSince(time)
        return .locked(retryAfter: max(1, Int(wait.rounded(.up))))
    }

    /// `key`'s failures still inside the window; forgets the rest (and the key, if none
    /// are left).
    private func recentFailures(of key: String, in state: inout State, at time: Date) -> [Date] {
        guard let failures = state.failures[key] else { return [] }
        let recent = failures.filter { isRecent($0, at: time) }
        state.failures[key] = recent.isEmpty ? nil : recent
        return recent
    }

    private func record(_ key: String, in state: inout State, at time: Date) {
        if state.failures[key] == nil, state.failures.count >= maximumKeys { makeRoom(&state, at: time) }
        var failures = state.failures[key] ?? []
        failures.append(time)
        if failures.count > limit { failures.removeFirst(failures.count - limit) }
        state.failures[key] = failures
    }

    private func isRecent(_ failure: Date, at time: Date) -> Bool {
        time.timeIntervalSince(failure) < window
    }

    /// Forgets, at most once a minute (or window, if shorter), every key whose failures
    /// have all left the window.
    private func sweepIfDue(_ state: inout State, at time: Date) {
        guard time.timeIntervalSince(state.lastSweep) >= min(60, window) else { return }
        state.lastSweep = time
        forgetExpired(&state, at: time)
    }

    private func forgetExpired(_ state: inout State, at time: Date) {
        state.failures = state.failures.filter { _, failures in failures.max().map { isRecent($0, at: time) } ?? false }
    }

    /// Called with the table full: forgets expired keys, then, if still above nine tenths
    /// of `maximumKeys`, the keys with the oldest last failure down to nine tenths.
    private func makeRoom(_ state: inout State, at time: Date) {
        forgetExpired(&state, at: time)
        let target = maximumKeys - max(1, maximumKeys / 10)
        guard state.failures.count > target else { return }
        let oldestFirst = state.failures.sorted { first, second in
            (first.value.max() ?? .distantPast) < (second.value.max() ?? .distantPast)
        }
        for (key, _) in oldestFirst.prefix(state.failures.count - target) {
            state.failures[key] = nil
        }
    }
}
