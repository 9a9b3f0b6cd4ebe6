import Foundation
import ServiceRuntime
import Synchronization
import Testing

@testable import GatewayService

@Suite("JWT key sets and the lives of live streams")
struct KeyRotationAndStreamTests {
    let old = String(repeating: "o", count: 32)
    let new = String(repeating: "n", count: 40)

    func keys(_ environment: [String: String]) -> (keys: [String: String], problems: [String]) {
        var reader = EnvironmentReader(environment)
        let keys = GatewayConfiguration.readKeys(&reader, signingKeyID: environment["KINDRED_JWT_KEY_ID"] ?? "k1")
        return (keys, reader.problems)
    }

    @Test("a key set signs with its signing key and accepts every listed key, so rotating signs nobody out")
    func rotation() throws {
        let now = Date(timeIntervalSince1970: 1_795_348_800)
        let userID = UUID()
        let before = AccessTokens(keys: ["k1": old], signingKeyID: "k1", lifetimeSeconds: 900)
        let issuedBefore = before.issue(userID: userID, now: now)
        // Step 1 of a rotation: add k2 and sign with it; k1's tokens still verify.
        let during = keys(["KINDRED_JWT_KEYS": "k1:\(old),k2:\(new)", "KINDRED_JWT_KEY_ID": "k2"])
        #expect(during.problems == [])
        let rotating = AccessTokens(keys: during.keys, signingKeyID: "k2", lifetimeSeconds: 900)
        #expect(try rotating.verify(issuedBefore, now: now).get().sub == userID.uuidString)
        let issuedDuring = rotating.issue(userID: userID, now: now)
        #expect(before.verify(issuedDuring, now: now) == .failure(.unknownKey), "signed with k2")
        // Step 2, after the token lifetime: k1 removed; its tokens no longer verify.
        let after = AccessTokens(keys: ["k2": new], signingKeyID: "k2", lifetimeSeconds: 900)
        #expect(after.verify(issuedBefore, now: now) == .failure(.unknownKey))
        #expect(try after.verify(issuedDuring, now: now).get().sub == userID.uuidString)
    }

    @Test("key settings: KINDRED_JWT_SECRET alone still works; bad entries are named and no secret is echoed")
    func keySettings() {
        #expect(keys(["KINDRED_JWT_SECRET": old]).keys == ["k1": old])
        #expect(keys(["KINDRED_JWT_SECRET": old, "KINDRED_JWT_KEYS": "k0:\(new)"]).keys == ["k0": new, "k1": old])
        let cases: [([String: String], String)] = [
            ([:], "KINDRED_JWT_KEYS or KINDRED_JWT_SECRET is required"),
            (["KINDRED_JWT_KEYS": "k1:short"], "the secret of key 'k1' must be at least 32 bytes"),
            (["KINDRED_JWT_KEYS": "no-colon-\(old)"], "entry 1 must look like kid:secret"),
            (["KINDRED_JWT_KEYS": "k1:\(old),k1:\(new)"], "names key 'k1' twice"),
            (["KINDRED_JWT_KEYS": "k2:\(new)"], "KINDRED_JWT_KEY_ID is 'k1', which is not a key"),
            (["KINDRED_JWT_KEYS": "k1:\(new)", "KINDRED_JWT_SECRET": old], "different secrets"),
        ]
        for (environment, expected) in cases {
            let problems = keys(environment).problems
            #expect(problems.contains { $0.contains(expected) }, "\(environment.keys.sorted()): \(problems)")
            #expect(!problems.joined().contains(old) && !problems.joined().contains(new), "a secret was echoed")
        }
    }

    @Test("a user may hold a limited number of streams; disconnecting ends them with a reason")
    func hub() async {
        let hub = LiveEventHub(maxStreamsPerUser: 2)
        let user = UUID()
        let reasons = Mutex<[StreamEnd]>([])
        let first = hub.subscribe(user, ended: { reason in reasons.withLock { $0.append(reason) } })
        let second = hub.subscribe(user, ended: { reason in reasons.withLock { $0.append(reason) } })
        #expect(first != nil && second != nil)
        #expect(hub.subscribe(user) == nil, "a third stream is refused")
        #expect(hub.subscribe(UUID()) != nil, "other users are not affected")
        hub.disconnect(user, reason: .accountClosed)
        #expect(reasons.withLock { $0 } == [.accountClosed, .accountClosed])
        var ended = 0
        for stream in [first, second].compactMap({ $0 }) {
            for await _ in stream {}
            ended += 1
        }
        #expect(ended == 2, "both streams finished")
        #expect(hub.openStreams(of: user) == 0)
        #expect(hub.subscribe(user) != nil, "after they ended, the user may open streams again")
    }

    @Test("a stream ends when its token expires or its account is closed, by the injected clock")
    func watch() async {
        let start = Date(timeIntervalSince1970: 1_795_348_800)
        let clock = Mutex(start)
        let closed = Mutex(false)
        let watch = StreamWatch(
            expiresAt: start.addingTimeInterval(60), now: { clock.withLock { $0 } },
            isAccountClosed: { closed.withLock { $0 } })
        #expect(await watch.endReason() == nil)
        #expect(watch.nextLook(heartbeat: .seconds(15)) == .seconds(15))
        clock.withLock { $0 = start.addingTimeInterval(55) }
        #expect(watch.nextLook(heartbeat: .seconds(15)) == .milliseconds(5000), "wakes when the token runs out")
        closed.withLock { $0 = true }
        #expect(await watch.endReason() == .accountClosed)
        clock.withLock { $0 = start.addingTimeInterval(60) }
        #expect(await watch.endReason() == .tokenExpired)
        #expect(StreamEnd.tokenExpired.frame == "event: end\ndata: {\"reason\":\"token-expired\"}\n\n")
    }
}
