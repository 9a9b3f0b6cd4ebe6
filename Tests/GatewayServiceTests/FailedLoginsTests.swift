import Foundation
import Synchronization
import TestSupport
import Testing

@testable import GatewayService

@Suite("Failed logins")
struct FailedLoginsTests {
    private let clock = ManualClock()
    let alice = FailedLoginLimiter.key(forEmail: "alice@example.com")
    let bob = FailedLoginLimiter.key(forEmail: "bob@example.com")

    func limiter(limit: Int = 10, window: TimeInterval = 15 * 60, maximumKeys: Int = 100_000) -> FailedLoginLimiter {
        let clock = clock
        return FailedLoginLimiter(limit: limit, window: window, maximumKeys: maximumKeys, now: { clock.now })
    }

    @Test("the defaults are 10 failures per 15 minutes")
    func defaults() {
        let limiter = FailedLoginLimiter()
        #expect(limiter.limit == 10)
        #expect(limiter.window == 900)
        #expect(limiter.maximumKeys == 100_000)
    }

    @Test("10 failures lock; the 11th attempt is refused until the window has passed")
    func lock() {
        let limiter = limiter()
        for attempt in 1...10 {
            #expect(limiter.check(alice) == .allowed, "attempt \(attempt)")
            limiter.recordFailure(alice)
        }
        #expect(limiter.check(alice) == .locked(retryAfter: 900))
        clock.advance(600)
        #expect(limiter.check(alice) == .locked(retryAfter: 300))
        clock.advance(299.5)
        #expect(limiter.check(alice) == .locked(retryAfter: 1), "never zero, never a fraction")
        clock.advance(0.5)
        #expect(limiter.check(alice) == .allowed)
        #expect(limiter.trackedKeys == 0, "a key whose failures all left the window is forgotten")
    }

    @Test("the window slides: each failure counts for 15 minutes from when it happened")
    func sliding() {
        let limiter = limiter()
        for _ in 1...10 {
            limiter.recordFailure(alice)
            clock.advance(60)
        }
        // Failures at 0, 60, …, 540; now is 600: the first leaves at 900.
        #expect(limiter.check(alice) == .locked(retryAfter: 300))
        clock.advance(300)
        #expect(limiter.check(alice) == .allowed, "one failure left the window, so one more try")
        limiter.recordFailure(alice)
        #expect(limiter.check(alice) == .locked(retryAfter: 60), "the next oldest, at 60, leaves at 960")
    }

    @Test("keys are independent")
    func independentKeys() {
        let limiter = limiter()
        for _ in 1...10 { limiter.recordFailure(alice) }
        #expect(limiter.check(alice) != .allowed)
        #expect(limiter.check(bob) == .allowed)
        limiter.recordFailure(bob)
        #expect(limiter.check(bob) == .allowed)
        limiter.recordSuccess(bob)
        #expect(limiter.check(alice) != .allowed, "another account's success clears nothing here")
    }

    @Test("a success clears the failures")
    func successClears() {
        let limiter = limiter()
        for _ in 1...9 { limiter.recordFailure(alice) }
        limiter.recordSuccess(alice)
        #expect(limiter.trackedKeys == 0)
        for _ in 1...9 { limiter.recordFailure(alice) }
        #expect(limiter.check(alice) == .allowed, "the count started again")
        limiter.recordFailure(alice)
        #expect(limiter.check(alice) == .locked(retryAfter: 900))
    }

    @Test("attempt counts before the password is checked; a refused attempt does not count")
    func attempts() {
        let limiter = limiter()
        for attempt in 1...10 { #expect(limiter.attempt(alice) == .allowed, "attempt \(attempt)") }
        #expect(limiter.attempt(alice) == .locked(retryAfter: 900))
        clock.advance(100)
        #expect(limiter.attempt(alice) == .locked(retryAfter: 800), "refusals do not extend the lock")
        clock.advance(800)
        #expect(limiter.attempt(alice) == .allowed)

        limiter.recordSuccess(alice)
        for _ in 1...5 {
            #expect(limiter.attempt(alice) == .allowed)
            limiter.recordSuccess(alice)
        }
        #expect(limiter.trackedKeys == 0, "attempts that succeeded leave nothing behind")
    }

    @Test("a burst of concurrent attempts gets exactly the limit through")
    func concurrentAttempts() async {
        let limiter = limiter()
        let key = alice
        let allowed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { limiter.attempt(key) == .allowed } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(allowed == 10)
    }

    @Test("failures recorded while locked extend the lock, but no more than `limit` are kept")
    func failuresWhileLocked() {
        let limiter = limiter(limit: 2, window: 100)
        limiter.recordFailure(alice)
        clock.advance(50)
        limiter.recordFailure(alice)
        #expect(limiter.check(alice) == .locked(retryAfter: 50))
        clock.advance(10)
        limiter.recordFailure(alice)
        #expect(limiter.check(alice) == .locked(retryAfter: 90), "the oldest kept failure is now the one at 50")
        for _ in 1...1000 { limiter.recordFailure(alice) }
        #expect(limiter.check(alice) == .locked(retryAfter: 100))
        clock.advance(100)
        #expect(limiter.check(alice) == .allowed)
    }

    @Test("keys whose window passed are forgotten")
    func forgetting() {
        let limiter = limiter()
        for index in 0..<500 { limiter.recordFailure("key-\(index)") }
        #expect(limiter.trackedKeys == 500)
        clock.advance(899)
        #expect(limiter.check(alice) == .allowed)
        #expect(limiter.trackedKeys == 500, "still inside the window")
        clock.advance(60)  // sweeps run at most once a minute
        #expect(limiter.check(alice) == .allowed)
        #expect(limiter.trackedKeys == 0)
    }

    @Test("at most maximumKeys are held; when full, the oldest tenth goes")
    func bounded() {
        let limiter = limiter(limit: 1, maximumKeys: 100)
        for index in 0..<100 {
            limiter.recordFailure("key-\(index)")
            clock.advance(1)
        }
        #expect(limiter.trackedKeys == 100)
        limiter.recordFailure("newcomer")
        #expect(limiter.trackedKeys == 91, "ten evicted in one pass, then the newcomer")
        for index in 0..<10 { #expect(limiter.check("key-\(index)") == .allowed, "key-\(index) was evicted") }
        for index in 10..<100 { #expect(limiter.check("key-\(index)") != .allowed, "key-\(index) is kept") }
        #expect(limiter.check("newcomer") != .allowed)
        limiter.recordFailure("key-10")
        #expect(limiter.trackedKeys == 91, "a key already held takes no room")

        let tiny = self.limiter(limit: 1, maximumKeys: 1)
        tiny.recordFailure(alice)
        clock.advance(1)
        tiny.recordFailure(bob)
        #expect(tiny.trackedKeys == 1)
        #expect(tiny.check(alice) == .allowed)
        #expect(tiny.check(bob) != .allowed)
    }

    @Test("a full table first drops what has expired, evicting nothing current")
    func expiredFirst() {
        // Sweeps run at most once a minute; the table fills up between two of them.
        let limiter = limiter(limit: 1, window: 100, maximumKeys: 10)
        for index in 0..<5 { limiter.recordFailure("old-\(index)") }  // sweeps, at 0
        clock.advance(70)
        for index in 0..<4 { limiter.recordFailure("new-\(index)") }  // sweeps, at 70: nothing expired
        clock.advance(30)
        limiter.recordFailure("new-4")  // at 100: the old ones expire, the next sweep is at 130
        #expect(limiter.trackedKeys == 10)
        limiter.recordFailure("newcomer")
        #expect(limiter.trackedKeys == 6, "the five expired keys went, no current one")
        for index in 0..<5 { #expect(limiter.check("new-\(index)") != .allowed) }
    }

    @Test("account keys are hashes of the e-mail, stable within the process")
    func keys() {
        #expect(alice == FailedLoginLimiter.key(forEmail: "alice@example.com"))
        #expect(alice != bob)
        #expect(alice.hasPrefix("login:"))
        #expect(alice.count == "login:".count + 64)
        #expect(alice.dropFirst("login:".count).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(!alice.contains("alice"))
        #expect(FailedLoginLimiter.key(forEmail: "") != FailedLoginLimiter.key(forEmail: " "))
    }
}
