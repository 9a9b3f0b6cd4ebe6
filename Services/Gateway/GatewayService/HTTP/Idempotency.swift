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
/// request while the first still runs is 409 (until its lease of two minutes runs out: a
/// request that died with its gateway instance does not hold its key for a day).
///
/// Keys are scoped to the signed-in user (or shared by anonymous callers, where replaying
/// needs the very same body, password included) and kept for 24 hours, then deleted by the
/// janitor. A 5xx or 429 answer is not stored, so the client's retry runs again.
///
/// Tokens are never stored. A route that signs a user in (`Replay.signIn`) records only
/// who was signed in, and a replay signs that user in again with fresh tokens (the replay
/// carried the same password, so it proves what a login would). Routes whose replay would
/// need no secret at all (`Replay.never`: a guest's display name, a refresh token that
/// must be used once) run every time, whatever key they carry.
struct Idempotency: Sendable {
    let pool: DatabasePool
    let authenticator: Authenticator
    let now: @Sendable () -> Date

    static let header = HTTPField.Name.constant("Idempotency-Key")
    static let replayedHeader = HTTPField.Name.constant("Idempotent-Replayed")
    static let retention: TimeInterval = 24 * 3600
    /// Longer than any request may run (route deadlines are at most 60 s).
    static let lease: TimeInterval = 120

    /// What a replay of a route answers.
    enum Replay: Sendable {
        /// The stored answer, byte for byte.
        case storedAnswer
        /// A new sign-in of the user the first request signed in, with the first answer's status.
        case signIn(@Sendable (UUID, HTTPResponse.Status) async throws -> Answer)
        /// No replay: the route runs every time.
        case never
    }

    /// The rows the janitor deletes: keys after their 24 hours.
    static let expiring = ExpiringRows(
        table: "idempotency_keys", column: "created_at", retention: .seconds(Int64(retention)))

    /// Runs `handler` once per key; `limit` is the route's body limit.
    func run(
        _ request: Request, context: KindredRequestContext, limit: Int, replay: Replay = .storedAnswer,
        _ handler: @Sendable (Request) async throws -> Answer
    ) async throws -> Response {
        if case .never = replay {
            return try await handler(request).response(from: request, context: context)
        }
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
                try IdempotencyStore.claim(
                    scope: scope, key: key, fingerprint: fingerprint, at: time, retention: Self.retention,
                    lease: Self.lease, on: $0)
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
            return try Self.replayed(answer, request: request, context: context)
        case .signedIn(let userID, let status):
            guard case .signIn(let signIn) = replay else {
                throw Problem(
                    status: .unprocessableContent, type: "idempotency-key-reused",
                    title: "This Idempotency-Key was used for another request",
                    detail: "use a new key for a new request")
            }
            return try Self.replayed(try await signIn(userID, status), request: request, context: context)
        case .claimed:
            break
        }
        let replayable = Request(head: request.head, body: .init(buffer: buffer))
        let answer: Answer
        do {
            answer = try await handler(replayable)
        } catch let problem as Problem {
            answer = problem.answer(instance: request.uri.path)
        } catch {
            try? await pool.withConnection {
                try IdempotencyStore.release(scope: scope, key: key, claimedAt: time, on: $0)
            }
            throw error
        }
        try? await pool.withConnection { connection in
            // A 5xx or a 429 says "try again later": storing it would answer the retry the same
            // way for a day.
            if answer.status.code >= 500 || answer.status == .tooManyRequests {
                try IdempotencyStore.release(scope: scope, key: key, claimedAt: time, on: connection)
            } else if case .signIn = replay, answer.status.kind == .successful,
                let tokens = try? KindredJSON.sharedDecoder.decode(TokenResponse.self, from: Data(answer.body))
            {
                try IdempotencyStore.storeSignIn(
                    of: tokens.userId, status: answer.status, scope: scope, key: key, claimedAt: time, on: connection)
            } else {
                try IdempotencyStore.store(answer, scope: scope, key: key, claimedAt: time, on: connection)
            }
        }
        return try answer.response(from: request, context: context)
    }

    private static func replayed(_ answer: Answer, request: Request, context: KindredRequestContext) throws
        -> Response
    {
        var response = try answer.response(from: request, context: context)
        response.headers[Self.replayedHeader] = "true"
        return response
    }

    static func fingerprint(request: Request, body: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: body)
        return hasher.finalize().hex
    }
}

extension Character {
    fileprivate var isPrintable: Bool { ("!"..."~").contains(self) }
}
