import Foundation
import HTTPTypes
import Persistence
import ServiceRuntime

/// The SQL of `Idempotency`: one row per (scope, key).
///
/// A claim is identified by its `created_at` (the claiming request's time): the request
/// that holds it stores or releases its row only while it still holds it, so a request
/// whose lease ran out and was taken over cannot write its answer (or its signed-in user)
/// under another request's body.
enum IdempotencyStore {
    enum Claim: Sendable {
        case claimed, inProgress, mismatch
        case stored(Answer)
        /// The first request signed a user in: its tokens were not stored, new ones are issued.
        case signedIn(UUID, HTTPResponse.Status)
    }

    /// Claims the key, or reads what it holds. A key older than `retention` counts as new,
    /// and so does one still marked in progress after `lease` (its request died with its
    /// gateway instance), so a crash never blocks a key for a day.
    static func claim(
        scope: String, key: String, fingerprint: String, at time: Date, retention: TimeInterval,
        lease: TimeInterval, on connection: DatabaseConnection
    ) throws -> Claim {
        let inserted = try connection.execute(
            """
            INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (scope, key) DO UPDATE
                SET fingerprint = EXCLUDED.fingerprint, status = NULL, content_type = NULL, retry_after = NULL,
                    body = NULL, signed_in_user = NULL, created_at = EXCLUDED.created_at
                WHERE idempotency_keys.created_at < $5
                   OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < $6)
            """,
            [
                scope, key, fingerprint, time, time.addingTimeInterval(-retention),
                time.addingTimeInterval(-lease),
            ]
        ).affectedRows
        if inserted == 1 { return .claimed }
        guard
            let row = try connection.execute(
                """
                SELECT fingerprint, status, content_type, retry_after, encode(body, 'base64') AS body,
                       upper(signed_in_user::text) AS signed_in_user, location
                FROM idempotency_keys WHERE scope = $1 AND key = $2
                """, [scope, key]
            ).first
        else { return .inProgress }
        guard row.string("fingerprint") == fingerprint else { return .mismatch }
        guard let status = row.int("status") else { return .inProgress }
        if let user = row.string("signed_in_user").flatMap(UUID.init(uuidString:)) {
            return .signedIn(user, HTTPResponse.Status(code: status))
        }
        let body = row.string("body").flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) } ?? Data()
        return .stored(
            Answer(
                status: HTTPResponse.Status(code: status), contentType: row.string("content_type"), body: Array(body),
                retryAfter: row.int("retry_after"), location: row.string("location")))
    }

    static func store(
        _ answer: Answer, scope: String, key: String, claimedAt: Date, on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            """
            UPDATE idempotency_keys SET status = $3, content_type = $4, retry_after = $5, body = decode($6, 'base64'),
                signed_in_user = NULL, location = $8
            WHERE scope = $1 AND key = $2 AND created_at = $7 AND status IS NULL
            """,
            [
                scope, key, answer.status.code, answer.contentType, answer.retryAfter,
                Data(answer.body).base64EncodedString(), claimedAt, answer.location,
            ])
    }

    /// Records that the request signed `userID` in, without the tokens it answered with.
    static func storeSignIn(
        of userID: UUID, status: HTTPResponse.Status, scope: String, key: String, claimedAt: Date,
        on connection: DatabaseConnection
    ) throws {
        try connection.execute(
            """
            UPDATE idempotency_keys SET status = $3, signed_in_user = $4, body = NULL, content_type = NULL
            WHERE scope = $1 AND key = $2 AND created_at = $5 AND status IS NULL
            """,
            [scope, key, status.code, userID, claimedAt])
    }

    static func release(scope: String, key: String, claimedAt: Date, on connection: DatabaseConnection) throws {
        try connection.execute(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at = $3 AND status IS NULL",
            [scope, key, claimedAt])
    }
}
