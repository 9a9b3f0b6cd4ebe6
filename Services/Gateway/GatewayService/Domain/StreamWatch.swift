import Foundation

/// When a live stream must end: its access token ran out, or its account was closed
/// (suspended, or being deleted). A stream outliving either would keep delivering a user's
/// events to whoever holds an old token.
struct StreamWatch: Sendable {
    let expiresAt: Date
    let now: @Sendable () -> Date
    /// Whether the account is closed now; false when that cannot be told (the database is
    /// away), so an outage does not cut every stream.
    let isAccountClosed: @Sendable () async -> Bool

    func endReason() async -> StreamEnd? {
        if now() >= expiresAt { return .tokenExpired }
        if await isAccountClosed() { return .accountClosed }
        return nil
    }

    /// How long until the next look: a heartbeat, or less when the token runs out sooner.
    func nextLook(heartbeat: Duration) -> Duration {
        let untilExpiry = expiresAt.timeIntervalSince(now())
        guard untilExpiry < Double(heartbeat.components.seconds) else { return heartbeat }
        return .milliseconds(max(10, Int64((untilExpiry * 1000).rounded(.up))))
    }
}
