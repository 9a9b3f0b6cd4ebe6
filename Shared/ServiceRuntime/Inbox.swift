import Persistence

/// Records processed message ids so that a redelivered message is a no-op.
///
/// Handlers never call it: the runtime claims every message it hands a handler
/// (`HandlerRunner`). It is public for tools and tests that write inbox rows themselves.
public enum Inbox {
    /// Claims a message for processing inside the caller's transaction. Returns false if
    /// this queue already processed it (the caller then does nothing). `attempts` (1 unless
    /// retries were needed) and `replayID` (of `kindred replay`) are kept for `kindred trace`.
    public static func claim(
        queue: String, messageID: String, attempts: Int = 1, replayID: String? = nil, on connection: DatabaseConnection
    ) throws -> Bool {
        try InboxStore.claim(
            queue: queue, messageID: messageID, attempts: attempts, replayID: replayID, on: connection)
    }
}
