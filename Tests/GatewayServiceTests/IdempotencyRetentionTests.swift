import Foundation
import Persistence
import ServiceRuntime
import TestSupport
import Testing

@testable import GatewayService

/// The gateway's idempotency keys and refresh tokens over time, in a database of their own
/// (the janitor deletes across whole tables).
@Suite("Idempotency leases and the janitor's retention of keys and refresh tokens", .serialized)
struct IdempotencyRetentionTests {
    func database() async throws -> ScratchDatabase {
        try await ScratchDatabase.make([
            (SharedMigrations.component, SharedMigrations.all), ("gateway", GatewayMigrations.all),
        ])
    }

    func claim(_ key: String, at time: Date, on pool: DatabasePool) async throws -> IdempotencyStore.Claim {
        try await pool.transaction { connection in
            try IdempotencyStore.claim(
                scope: "anonymous", key: key, fingerprint: "f", at: time, retention: Idempotency.retention,
                lease: Idempotency.lease, on: connection)
        }
    }

    @Test("a key left in progress by a crash frees itself after its lease, not after a day")
    func lease() async throws {
        let scratch = try await database()
        let start = Date(timeIntervalSince1970: 1_795_348_800)
        guard case .claimed = try await claim("k", at: start, on: scratch.pool) else {
            Issue.record("the first claim did not claim")
            return
        }
        // Its request died with its gateway: nothing ever stores the answer.
        guard
            case .inProgress = try await claim(
                "k", at: start.addingTimeInterval(Idempotency.lease - 1), on: scratch.pool)
        else {
            Issue.record("a second claim within the lease did not see the first in progress")
            return
        }
        guard
            case .claimed = try await claim("k", at: start.addingTimeInterval(Idempotency.lease + 1), on: scratch.pool)
        else {
            Issue.record("the key stayed taken after its lease ran out")
            return
        }
        await scratch.drop()
    }

    @Test("the janitor deletes keys after 24 hours and refresh tokens that expired or were revoked a day ago")
    func janitor() async throws {
        let scratch = try await database()
        let user = UUID()
        try await scratch.pool.transaction { connection in
            try AccountStore.insert(
                userID: user, email: "janitor@example.com", passwordHash: "x", at: Date(), on: connection)
            try connection.execute(
                """
                INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES
                    ('anonymous', 'old', 'f', now() - interval '25 hours'),
                    ('anonymous', 'fresh', 'f', now() - interval '23 hours')
                """)
            try connection.execute(
                """
                INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at, used_at, revoked_at)
                VALUES
                    ('expired', gen_random_uuid(), $1, now() - interval '8 days', now() - interval '1 day', NULL, NULL),
                    ('revoked-long-ago', gen_random_uuid(), $1, now() - interval '3 days', now() + interval '4 days',
                     NULL, now() - interval '2 days'),
                    ('revoked-just-now', gen_random_uuid(), $1, now() - interval '1 day', now() + interval '6 days',
                     NULL, now() - interval '1 hour'),
                    ('used-and-live', gen_random_uuid(), $1, now() - interval '1 day', now() + interval '6 days',
                     now() - interval '1 hour', NULL)
                """, [user])
        }
        let janitor = RetentionJanitor(
            pool: scratch.pool, expiring: [Idempotency.expiring] + AccountStore.expiringRefreshTokens,
            logger: TestEnvironment.logger("janitor"))
        await janitor.sweep()
        let keys = try await scratch.pool.withConnection { connection in
            try connection.execute("SELECT key FROM idempotency_keys ORDER BY key").rows.compactMap { $0.string("key") }
        }
        #expect(keys == ["fresh"])
        let tokens = try await scratch.pool.withConnection { connection in
            try connection.execute("SELECT token_hash FROM refresh_tokens ORDER BY token_hash").rows.compactMap {
                $0.string("token_hash")
            }
        }
        // A used token that is still live stays: presenting it again must be seen as reuse.
        #expect(tokens == ["revoked-just-now", "used-and-live"])
        await scratch.drop()
    }
}
