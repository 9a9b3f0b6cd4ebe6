import Foundation
import Synchronization

/// Token buckets per key: `limit` requests per minute, refilled continuously, so a client
/// that waits gets its budget back smoothly instead of all at once on a minute boundary.
///
/// Limits are per gateway instance (in memory); with several instances a client gets up
/// to `limit` per instance — the knob is the budget of one instance.
public final class RateLimiter: Sendable {
    public let limit: Int
    private let now: @Sendable () -> Date
    private let state = Mutex((buckets: [String: Bucket](), lastSweep: Date.distantPast))

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    public enum Decision: Equatable, Sendable {
        case allowed
        /// Denied; retry after this many whole seconds.
        case limited(retryAfter: Int)
    }

    public init(limitPerMinute: Int, now: @escaping @Sendable () -> Date = Date.init) {
        self.limit = limitPerMinute
        self.now = now
    }

    /// Takes one token from `key`'s bucket if it has one.
    public func take(_ key: String) -> Decision {
        let time = now()
        let rate = Double(limit) / 60
        return state.withLock { state in
            // At most once a minute: with many clients still active, every request would
            // otherwise scan them all.
            if state.buckets.count > 50_000, time.timeIntervalSince(state.lastSweep) >= 60 {
                Self.forgetIdle(&state.buckets, at: time, rate: rate, capacity: Double(limit))
                state.lastSweep = time
            }
            var bucket = state.buckets[key] ?? Bucket(tokens: Double(limit), updated: time)
            bucket.tokens = min(Double(limit), bucket.tokens + time.timeIntervalSince(bucket.updated) * rate)
            bucket.updated = time
            defer { state.buckets[key] = bucket }
            guard bucket.tokens >= 1 else {
                return .limited(retryAfter: max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))))
            }
            bucket.tokens -= 1
            return .allowed
        }
    }

    /// Drops buckets that have refilled completely: they hold no information.
    private static func forgetIdle(_ buckets: inout [String: Bucket], at time: Date, rate: Double, capacity: Double) {
        buckets = buckets.filter { _, bucket in
            bucket.tokens + time.timeIntervalSince(bucket.updated) * rate < capacity
        }
    }
}
