import Foundation
import Persistence
import ServiceRuntime

/// The SQL of the `accounts` and `refresh_tokens` tables. Every function runs on a
/// connection inside the caller's transaction.
enum AccountStore {
    struct Account: Sendable {
        let userID: UUID
        let passwordHash: String?
        /// Suspended or being deleted: it may not sign in or refresh.
        let isBlocked: Bool
    }

    private static let columns = "user_id, password_hash, suspended_at, deleting_since"

    /// Inserts a member account; throws a unique violation if the e-mail is taken.
    static func insert(
        userID: UUID, email: String, passwordHash: String, at time: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            "INSERT INTO accounts (user_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
            [userID, email, passwordHash, time])
    }

    static func insertGuest(userID: UUID, displayName: String, at time: Date, on connection: DatabaseConnection) throws
    {
        try connection.execute(
            "INSERT INTO accounts (user_id, kind, display_name, created_at) VALUES ($1, 'guest', $2, $3)",
            [userID, displayName, time])
    }

    /// Gives a guest an e-mail and password; returns the new sequence, or nil if the
    /// account is not a guest any more. Throws a unique violation if the e-mail is taken.
    static func link(userID: UUID, email: String, passwordHash: String, on connection: DatabaseConnection) throws
        -> Int64?
    {
        try connection.execute(
            """
            UPDATE accounts SET email = $2, password_hash = $3, kind = 'member', sequence = sequence + 1
            WHERE user_id = $1 AND kind = 'guest' RETURNING sequence
            """, [userID, email, passwordHash]
        ).first?.int64("sequence")
    }

    static func find(email: String, on connection: DatabaseConnection) throws -> Account? {
        try connection.execute("SELECT \(columns) FROM accounts WHERE email = $1", [email]).first.flatMap(account)
    }

    static func find(userID: UUID, on connection: DatabaseConnection) throws -> Account? {
        try connection.execute("SELECT \(columns) FROM accounts WHERE user_id = $1", [userID]).first.flatMap(account)
    }

    /// Marks an account suspended (banned too, if `banned`) and revokes all its refresh
    /// tokens, unless a later moderation event (by `sequence`) was applied already. Returns
    /// whether it applied.
    @discardableResult
    static func suspend(
        userID: UUID, banned: Bool = false, sequence: Int64, at time: Date, on connection: DatabaseConnection
    ) throws -> Bool {
        let applied =
            try connection.execute(
                """
                UPDATE accounts SET suspended_at = COALESCE(suspended_at, $2),
                    banned_at = CASE WHEN $3::boolean THEN COALESCE(banned_at, $2) ELSE banned_at END,
                    moderation_sequence = $4::bigint
                WHERE user_id = $1 AND moderation_sequence < $4::bigint
                """, [userID, time, banned, sequence]
            ).affectedRows == 1
        if applied { try revokeAll(userID: userID, at: time, on: connection) }
        return applied
    }

    /// Lifts a suspension or ban, unless a later moderation event was applied already.
    static func reinstate(userID: UUID, sequence: Int64, on connection: DatabaseConnection) throws {
        try connection.execute(
            """
            UPDATE accounts SET suspended_at = NULL, banned_at = NULL, moderation_sequence = $2::bigint
            WHERE user_id = $1 AND moderation_sequence < $2::bigint
            """, [userID, sequence])
    }

    /// The roles of an account (`AccountRole` raw values), sorted.
    static func roles(userID: UUID, on connection: DatabaseConnection) throws -> [String] {
        try connection.execute(prepared: "SELECT roles FROM accounts WHERE user_id = $1", [userID]).first?
            .stringArray("roles")?.sorted() ?? []
    }

    /// Grants or revokes a role of the account with this e-mail; false if there is none.
    static func setRole(_ role: String, granted: Bool, email: String, on connection: DatabaseConnection) throws
        -> Bool
    {
        try connection.execute(
            """
            UPDATE accounts SET roles = CASE WHEN $3::boolean
                THEN (SELECT array_agg(DISTINCT r ORDER BY r) FROM unnest(array_append(roles, $2)) AS r)
                ELSE array_remove(roles, $2) END
            WHERE email = $1
            """, [email, role, granted]
        ).affectedRows == 1
    }

    private static func account(_ row: Row) -> Account? {
        guard let userID = row.uuid("user_id") else { return nil }
        return Account(
            userID: userID, passwordHash: row.string("password_hash"),
            isBlocked: row.string("suspended_at") != nil || row.string("deleting_since") != nil)
    }

    /// Starts deleting an account: it can no longer sign in, its refresh tokens are revoked.
    /// Returns false if it was already being deleted.
    static func startDeletion(userID: UUID, at time: Date, on connection: DatabaseConnection) throws -> Bool {
        let started =
            try connection.execute(
                "UPDATE accounts SET deleting_since = $2 WHERE user_id = $1 AND deleting_since IS NULL", [userID, time]
            ).affectedRows == 1
        if started { try revokeAll(userID: userID, at: time, on: connection) }
        return started
    }

    /// Erases what the gateway keeps about a user, once every other service has.
    static func erase(userID: UUID, on connection: DatabaseConnection) throws {
        try connection.execute("DELETE FROM accounts WHERE user_id = $1", [userID])
        try connection.execute("DELETE FROM live_events WHERE user_id = $1", [userID])
        try connection.execute("DELETE FROM idempotency_keys WHERE scope = $1", [userID.uuidString])
    }

    // MARK: Refresh tokens

    struct StoredRefreshToken: Sendable {
        let familyID: UUID
        let userID: UUID
        let expiresAt: Date
        let usedAt: Date?
        let revokedAt: Date?
    }

    static func insertRefreshToken(
        hash: String, familyID: UUID, userID: UUID, at time: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            """
            INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at)
            VALUES ($1, $2, $3, $4, $5)
            """,
            [hash, familyID, userID, time, time.addingTimeInterval(RefreshTokens.lifetime)])
    }

    /// The stored token, locked until the transaction ends so two uses race safely.
    static func lockRefreshToken(hash: String, on connection: DatabaseConnection) throws -> StoredRefreshToken? {
        guard
            let row = try connection.execute(
                """
                SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens
                WHERE token_hash = $1 FOR UPDATE
                """, [hash]
            ).first,
            let familyID = row.uuid("family_id"), let userID = row.uuid("user_id"),
            let expiresAt = row.date("expires_at")
        else { return nil }
        return StoredRefreshToken(
            familyID: familyID, userID: userID, expiresAt: expiresAt, usedAt: row.date("used_at"),
            revokedAt: row.date("revoked_at"))
    }

    static func markUsed(hash: String, at time: Date, on connection: DatabaseConnection) throws {
        try connection.execute("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1", [hash, time])
    }

    static func revokeFamily(_ familyID: UUID, at time: Date, on connection: DatabaseConnection) throws {
        try connection.execute(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL", [familyID, time])
    }

    static func revokeAll(userID: UUID, at time: Date, on connection: DatabaseConnection) throws {
        try connection.execute(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL", [userID, time])
    }
}

extension AccountStore {
    /// Refresh tokens the janitor deletes: expired ones, and revoked ones a day after their
    /// revocation (a used but live token is kept: presenting it again must still be detected
    /// as reuse, which revokes its family).
    static let expiringRefreshTokens = [
        ExpiringRows(table: "refresh_tokens", column: "expires_at", retention: .zero),
        ExpiringRows(table: "refresh_tokens", column: "revoked_at", retention: .seconds(24 * 3600)),
    ]
}
