import Persistence

/// The SQL of the shared `inbox` table: one row per message a queue processed, with the
/// encoded answer envelope when the message was a request that changes state.
enum InboxStore {
    /// Inserts the row of a message; false when the queue already has it. A second
    /// transaction claiming the same message waits here until the first one ends.
    static func claim(
        queue: String, messageID: String, attempts: Int, replayID: String?, on connection: DatabaseConnection
    ) throws -> Bool {
        try connection.execute(
            prepared: """
                INSERT INTO inbox (queue, message_id, attempts, replay_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT DO NOTHING
                """,
            [queue, messageID, attempts, replayID]
        ).affectedRows == 1
    }

    /// Keeps the answer of a request on the row its claim just wrote, as the last statement
    /// of the transaction: it commits with it.
    static func keepReplyAndCommit(
        _ reply: String, queue: String, messageID: String, on connection: DatabaseConnection
    ) throws {
        try connection.executeAndCommit(
            prepared: "UPDATE inbox SET reply = $3 WHERE queue = $1 AND message_id = $2", [queue, messageID, reply])
    }

    /// The answer kept for a request this queue already processed; nil if none was kept (it
    /// was handled before answers were kept, or it was not a request).
    static func reply(queue: String, messageID: String, on connection: DatabaseConnection) throws -> String? {
        try connection.execute(
            "SELECT reply FROM inbox WHERE queue = $1 AND message_id = $2", [queue, messageID]
        ).first?.string("reply")
    }
}
