import Contracts
import Foundation
import Logging
import Persistence
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import GatewayService

/// The gateway's handlers through the runtime's handler runner, against a database of
/// their own.
@Suite("Gateway handlers", .serialized)
struct GatewayHandlerTests {
    let userID = UUID()

    func withHarness(_ body: (HandlerHarness) async throws -> Void) async throws {
        try await HandlerHarness.with(service: .gateway, migrations: GatewayMigrations.all, body)
    }

    func insertAccount(in harness: HandlerHarness) async throws {
        let userID = userID
        let time = harness.now
        try await harness.pool.withConnection { connection in
            try AccountStore.insert(
                userID: userID, email: "\(userID.uuidString.lowercased())@example.com", passwordHash: "not-a-hash",
                at: time, on: connection)
        }
    }

    @Test("it handles exactly the events the registry says it consumes, so it starts")
    func handlersMatchRegistry() throws {
        let environment = [
            "KINDRED_JWT_SECRET": try TestEnvironment.value("KINDRED_JWT_SECRET"), "KINDRED_BCRYPT_COST": "4",
            "KINDRED_MEDIA_URL_KEYS": try TestEnvironment.value("KINDRED_MEDIA_URL_KEYS"),
        ]
        try ServiceHarness.expectHandlersMatchRegistry(.gateway, environment: environment) { runtime, reader in
            try GatewayService.build(runtime: runtime, reader: &reader)
        }
    }

    @Test("a suspension blocks the account, then ends its live streams here; a redelivery does neither again")
    func suspension() async throws {
        try await withHarness { harness in
            let userID = userID
            try await insertAccount(in: harness)
            let hub = LiveEventHub()
            let ends = Mutex<[StreamEnd]>([])
            let stream = try #require(hub.subscribe(userID) { reason in ends.withLock { $0.append(reason) } })
            let event = Envelope(
                source: .profile, time: harness.now, subject: userID.uuidString,
                data: UserSuspended(userId: userID, reason: "reports", sequence: 1), correlationID: "gateway-tests")
            let handler = UserSuspendedHandler(hub: hub, pool: harness.pool, now: harness.clock)

            let first = try await harness.deliver(event, to: handler)
            #expect(!first.duplicate)
            let ended = ends.withLock { $0 }
            #expect(ended == [.accountClosed])
            let account = try await harness.pool.withConnection { try AccountStore.find(userID: userID, on: $0) }
            #expect(account?.isBlocked == true)

            let again = try await harness.deliver(event, to: handler)
            #expect(again.duplicate)
            let endedAgain = ends.withLock { $0 }
            #expect(endedAgain == [.accountClosed], "no stream is ended twice")
            withExtendedLifetime(stream) {}
        }
    }

    @Test("suspensions, bans and reinstatements apply in moderation order; a late one changes nothing")
    func moderationOrder() async throws {
        try await withHarness { harness in
            let userID = userID
            try await insertAccount(in: harness)
            let hub = LiveEventHub()
            let ends = Mutex<[StreamEnd]>([])
            let stream = try #require(hub.subscribe(userID) { reason in ends.withLock { $0.append(reason) } })
            func envelope<E: Event>(_ data: E) -> Envelope<E> {
                Envelope(
                    source: .profile, time: harness.now, subject: userID.uuidString, data: data,
                    correlationID: "gateway-tests")
            }
            func blocked() async throws -> Bool? {
                try await harness.pool.withConnection { try AccountStore.find(userID: userID, on: $0)?.isBlocked }
            }
            _ = try await harness.deliver(
                envelope(UserReinstated(userId: userID, sequence: 2)), to: UserReinstatedHandler())
            // The suspension the reinstatement lifted arrives late: nothing changes, no stream ends.
            _ = try await harness.deliver(
                envelope(UserSuspended(userId: userID, reason: "reports", sequence: 1)),
                to: UserSuspendedHandler(hub: hub, pool: harness.pool, now: harness.clock))
            #expect(try await blocked() == false)
            #expect(ends.withLock { $0 }.isEmpty)

            _ = try await harness.deliver(
                envelope(UserBanned(userId: userID, reason: "scam", sequence: 3)),
                to: UserBannedHandler(hub: hub, pool: harness.pool, now: harness.clock))
            #expect(try await blocked() == true)
            #expect(ends.withLock { $0 } == [.accountClosed])
            withExtendedLifetime(stream) {}
        }
    }

    @Test("an operator's role change is recorded on the account with that e-mail and goes into its next tokens")
    func roles() async throws {
        try await withHarness { harness in
            let userID = userID
            try await insertAccount(in: harness)
            let email = try await harness.pool.withConnection { connection in
                try connection.execute("SELECT email FROM accounts WHERE user_id = $1", [userID]).first?.string("email")
            }
            let address = try #require(email)
            func change(_ granted: Bool, _ address: String) async throws {
                _ = try await harness.deliver(
                    Envelope(
                        source: .gateway, time: harness.now, subject: nil,
                        data: AccountRoleChanged(email: address, role: .moderator, granted: granted),
                        correlationID: "gateway-tests"),
                    to: AccountRoleChangedHandler(logger: Logger(label: "tests")))
            }
            func roles() async throws -> [String] {
                try await harness.pool.withConnection { try AccountStore.roles(userID: userID, on: $0) }
            }
            try await change(true, address.uppercased())
            #expect(try await roles() == ["moderator"])
            try await change(true, address)
            #expect(try await roles() == ["moderator"], "granted once")
            try await change(true, "nobody@example.com")
            try await change(false, address)
            #expect(try await roles() == [])
        }
    }

    @Test("the last service's erasure erases the account and completes the operation")
    func erasure() async throws {
        try await withHarness { harness in
            let userID = userID
            try await insertAccount(in: harness)
            let operationID = UUID()
            let time = harness.now
            try await harness.pool.withConnection { connection in
                try connection.execute(
                    """
                    INSERT INTO operations (operation_id, user_id, kind, status, waiting_for, created_at)
                    VALUES ($1, $2, 'account-deletion', 'pending', $3::text[], $4)
                    """, [operationID, userID, ["profile"], time])
            }
            let event = Envelope(
                source: .profile, time: harness.now, subject: userID.uuidString,
                data: UserDataErased(userId: userID, operationId: operationID, service: .profile),
                correlationID: "gateway-tests")
            let result = try await harness.deliver(event, to: UserDataErasedHandler(now: harness.clock))
            #expect(!result.duplicate)
            let (account, status) = try await harness.pool.withConnection { connection in
                (
                    try AccountStore.find(userID: userID, on: connection),
                    try connection.execute("SELECT status FROM operations WHERE operation_id = $1", [operationID])
                        .first?.string("status")
                )
            }
            #expect(account?.userID == nil, "the account is erased")
            #expect(status == "completed")
        }
    }
}
