import Contracts
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Persistence
import ServiceRuntime

/// `Idempotency-Key` on state-changing POSTs: the first request with a key runs and its
/// answer is stored; the same key with the same request returns the stored answer (with
/// `Idempotent-Replayed: true`); the same key with another request is 422; a second
/// request while the first still runs is 409.
///
/// Keys are scoped to the signed-in user (or shared by anonymous callers, where replaying
/// needs the very same body, password included) and kept for 24 hours. A 5xx answer is
/// not stored, so the client's retry runs again.
struct Idempotency: Sendable {
    let pool: DatabasePool
    let authenticator: Authenticator
    let now: @Sendable () -> Date

    static let header = HTTPField.Name.constant("Idempotency-Key")
    static let replayedHeader = HTTPField.Name.constant("Idempotent-Replayed")
    static let retention: TimeInterval = 24 * 3600

    /// Runs `handler` once per key; `limit` is the route's body limit.
    func run(
        _ request: Request, context: KindredRequestContext, limit: Int,
        _ handler: @Sendable (Request) async throws -> Answer
    ) async throws -> Response {
        guard let key = request.headers[Self.header] else {
            return try await handler(request).response(from: request, context: context)
        }
        guard (1...255).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.isPrintable })
        else {
            throw Problem.validation([
                FieldError(field: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters")
            ])
        }
        let buffer = try await request.body.collect(upTo: limit)
        let fingerprint = Self.fingerprint(request: request, body: Array(buffer.readableBytesView))
        let scope = (try? authenticator.userID(of: request))?.uuidString ?? "anonymous"
        let time = now()
        let claimed = try await unavailableWhenDatabaseIsDown("the gateway database") {
            try await pool.transaction {
                try Self.claim(scope: scope, key: key, fingerprint: fingerprint, at: time, on: $0)
            }
        }
        switch claimed {
        case .mismatch:
            throw Problem(
                status: .unprocessableContent, type: "idempotency-key-reused",
                title: "This Idempotency-Key was used for another request",
                detail: "use a new key for a new request")
        case .inProgress:
            throw Problem(
                status: .conflict, type: "idempotency-in-progress",
                title: "A request with this Idempotency-Key is still running", retryAfter: 1)
        case .stored(let answer):
            var response = try answer.response(from: request, context: context)
            response.headers[Self.replayedHeader] = "true"
            return response
        case .claimed:
            break
        }
        let replay = Request(head: request.head, body: .init(buffer: buffer))
        let answer: Answer
        do {
            answer = try await handler(replay)
        } catch let problem as Problem {
            answer = problem.answer(instance: request.uri.path)
        } catch {
            try? await pool.withConnection { try Self.release(scope: scope, key: key, on: $0) }
            throw error
        }
        try? await pool.withConnection { connection in
            if answer.status.code >= 500 {
                try Self.release(scope: scope, key: key, on: connection)
            } else {
                try Self.store(answer, scope: scope, key: key, on: connection)
            }
        }
        return try answer.response(from: request, context: context)
    }

    enum Claim: Sendable {
        case claimed, inProgress, mismatch
        case stored(Answer)
    }

    static func fingerprint(request: Request, body: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: body)
        return hasher.finalize().hex
    }

    /// Claims the key (a key older than the retention counts as new), or reads what it
    /// holds.
    static func claim(scope: String, key: String, fingerprint: String, at time: Date, on connection: DatabaseConnection)
        throws -> Claim
    {
        let inserted = try connection.execute(
            """
            INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (scope, key) DO UPDATE
                SET fingerprint = EXCLUDED.fingerprint, status = NULL, content_type = NULL, retry_after = NULL,
                    body = NULL, created_at = EXCLUDED.created_at
                WHERE idempotency_keys.created_at < $5
            """,
            [scope, key, fingerprint, time, time.addingTimeInterval(-retention)]
        ).affectedRows
        if inserted == 1 { return .claimed }
        guard
            let row = try connection.execute(
                """
                SELECT fingerprint, status, content_type, retry_after, encode(body, 'base64') AS body
                FROM idempotency_keys WHERE scope = $1 AND key = $2
                """, [scope, key]
            ).first
        else { return .inProgress }
        guard row.string("fingerprint") == fingerprint else { return .mismatch }
        guard let status = row.int("status") else { return .inProgress }
        let body = row.string("body").flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) } ?? Data()
        return .stored(
            Answer(
                status: HTTPResponse.Status(code: status), contentType: row.string("content_type"), body: Array(body),
                retryAfter: row.int("retry_after")))
    }

    static func store(_ answer: Answer, scope: String, key: String, on connection: DatabaseConnection) throws {
        try connection.execute(
            """
            UPDATE idempotency_keys SET status = $3, content_type = $4, retry_after = $5, body = decode($6, 'base64')
            WHERE scope = $1 AND key = $2
            """,
            [
                scope, key, answer.status.code, answer.contentType, answer.retryAfter,
                Data(answer.body).base64EncodedString(),
            ])
    }

    static func release(scope: String, key: String, on connection: DatabaseConnection) throws {
        try connection.execute("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2", [scope, key])
    }
}

extension Character {
    fileprivate var isPrintable: Bool { ("!"..."~").contains(self) }
}
