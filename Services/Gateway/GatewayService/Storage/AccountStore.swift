import Foundation
import Persistence

/// The SQL of the `accounts` table.
enum AccountStore {
    struct Account: Sendable {
        let userID: UUID
        let passwordHash: String
    }

    /// Inserts an account; throws a unique violation if the e-mail is taken.
    static func insert(
        userID: UUID, email: String, passwordHash: String, at time: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            "INSERT INTO accounts (user_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
            [userID, email, passwordHash, time])
    }

    static func find(email: String, on connection: DatabaseConnection) throws -> Account? {
        guard
            let row = try connection.execute(
                "SELECT user_id, password_hash FROM accounts WHERE email = $1", [email]
            ).first, let userID = row.uuid("user_id"), let hash = row.string("password_hash")
        else { return nil }
        return Account(userID: userID, passwordHash: hash)
    }
}
