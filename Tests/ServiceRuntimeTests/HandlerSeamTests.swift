import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

/// What a test handler saw.
final class HandlerLog: Sendable {
    private let entries = Mutex<[String]>([])

    func record(_ entry: String) { entries.withLock { $0.append(entry) } }
    var recorded: [String] { entries.withLock { $0 } }
}

/// Writes a `ProfileCreated` for every suspension it handles (or throws, when told to), and
/// logs its runs.
struct SuspensionRecorder: EventHandler {
    let log: HandlerLog
    var fails = false

    struct Refused: Error {}

    func handle(_ envelope: Envelope<UserSuspended>, context: MessageContext, database: DatabaseConnection) throws {
        log.record("handle attempt \(context.attempt)")
        try Outbox.append(
            Envelope(
                causedBy: envelope, source: .profile, time: envelope.time, subject: envelope.subject,
                data: ProfileCreated(userId: envelope.data.userId, sequence: 1)),
            on: database)
        if fails { throw Refused() }
    }

    func committed(_ envelope: Envelope<UserSuspended>, context: MessageContext) async {
        log.record("committed")
    }
}

struct ErasureIgnorer: EventHandler {
    func handle(_ envelope: Envelope<UserDataErased>, context: MessageContext, database: DatabaseConnection) throws {}
}

struct ProfileCreatedIgnorer: EventHandler {
    func handle(_ envelope: Envelope<ProfileCreated>, context: MessageContext, database: DatabaseConnection) throws {}
}

/// Handles one event type by doing nothing: the gateway's other consumed types, so that
/// the start-up check's tests are about the handlers they name.
struct Ignorer<Handled: Event>: EventHandler {
    func handle(_ envelope: Envelope<Handled>, context: MessageContext, database: DatabaseConnection) throws {}
}

/// Refuses every update with a conflict, having written nothing.
struct ConflictingUpdates: RequestHandler {
    func handle(
        _ envelope: Envelope<ProfileUpdateRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<ProfileUpdated, RequestFailed> {
        .failure(RequestFailed(code: .conflict, detail: "not now"))
    }
}

@Suite("The handler seam: the start-up check and the runner", .serialized)
struct HandlerSeamTests {
    let userID = UUID()

    static let otherGatewayHandlers: [any MessageHandler] = [
        Ignorer<UserBanned>(), Ignorer<UserReinstated>(), Ignorer<AccountRoleChanged>(),
    ]

    func suspension(at time: Date) -> Envelope<UserSuspended> {
        Envelope(
            source: .profile, time: time, subject: userID.uuidString,
            data: UserSuspended(userId: userID, reason: "tests", sequence: 1), correlationID: "seam-tests")
    }

    func withHarness(_ body: (HandlerHarness) async throws -> Void) async throws {
        try await HandlerHarness.with(service: .profile, migrations: [], body)
    }

    @Test("handlers that match the registry pass the start-up check")
    func matching() throws {
        let parts = ServiceParts(
            migrations: [],
            handlers: [SuspensionRecorder(log: HandlerLog()), ErasureIgnorer()] + Self.otherGatewayHandlers)
        #expect(parts.handlerProblems(for: .gateway) == [])
        #expect(throws: Never.self) { try parts.checkHandlers(for: .gateway) }
        #expect(ServiceParts(migrations: []).handlerProblems(for: .matching) == [])
    }

    @Test("a missing, an extra and a doubled handler each stop the service, named")
    func mismatch() throws {
        let parts = ServiceParts(
            migrations: [],
            handlers: [
                SuspensionRecorder(log: HandlerLog()), SuspensionRecorder(log: HandlerLog()), ProfileCreatedIgnorer(),
            ] + Self.otherGatewayHandlers
        )
        let problems = parts.handlerProblems(for: .gateway)
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.contains("UserSuspended has 2 handlers") })
        #expect(problems.contains { $0.contains("a handler for ProfileCreated") && $0.contains("registry") })
        #expect(problems.contains { $0.contains("consumer of UserDataErased") && $0.contains("no handler") })
        #expect(throws: ConfigurationError(problems: problems)) { try parts.checkHandlers(for: .gateway) }

        let none = ServiceParts(migrations: []).handlerProblems(for: .profile)
        for type in ["UserRegistered", "GuestRegistered", "ProfileRequested", "ProfileUpdateRequested"] {
            #expect(none.contains { $0.contains("consumer of \(type),") }, "\(type) is not named: \(none)")
        }
    }

    @Test("an event commits with its claim and runs committed after it; a redelivery runs neither")
    func eventOnce() async throws {
        try await withHarness { harness in
            let log = HandlerLog()
            let event = suspension(at: harness.now)
            let first = try await harness.deliver(event, to: SuspensionRecorder(log: log))
            #expect(!first.duplicate)
            #expect(try first.published(ProfileCreated.self).first?.causationid == event.id.uuidString)
            let again = try await harness.deliver(event, to: SuspensionRecorder(log: log))
            #expect(again.duplicate)
            #expect(again.outbox.isEmpty)
            #expect(log.recorded == ["handle attempt 1", "committed"])
        }
    }

    @Test("a handler that throws commits nothing, not even the claim, and committed does not run")
    func rollback() async throws {
        try await withHarness { harness in
            let log = HandlerLog()
            let event = suspension(at: harness.now)
            await #expect(throws: SuspensionRecorder.Refused.self) {
                try await harness.deliver(event, to: SuspensionRecorder(log: log, fails: true))
            }
            let retry = harness.context(for: UserSuspended.eventType, attempt: 2)
            let second = try await harness.deliver(event, to: SuspensionRecorder(log: log), context: retry)
            #expect(!second.duplicate)
            #expect(second.outbox.count == 1, "only the committed try's row")
            #expect(log.recorded == ["handle attempt 1", "handle attempt 2", "committed"])
        }
    }

    @Test("a failure answer is kept with the claim and sent again, identical, for a redelivery")
    func failureKept() async throws {
        try await withHarness { harness in
            let request = Envelope(
                source: .gateway, time: harness.now, subject: userID.uuidString,
                data: ProfileUpdateRequested(
                    userId: userID, displayName: nil, birthdate: nil, gender: nil, seeking: nil, bio: nil),
                correlationID: "seam-tests")
            let first = try await harness.deliver(request, to: ConflictingUpdates())
            guard case .failure(let failure)? = first.reply else {
                Issue.record("not a failure: \(String(describing: first.reply))")
                return
            }
            #expect(failure.code == .conflict)
            let again = try await harness.deliver(request, to: ConflictingUpdates())
            #expect(again.duplicate)
            #expect(again.replyBody == first.replyBody)
        }
    }

    @Test("a request without reply_to cannot be answered: it is dead-lettered, not handled")
    func noReplyTo() async throws {
        try await withHarness { harness in
            let update = Envelope(
                source: .gateway, time: harness.now, subject: nil,
                data: ProfileUpdateRequested(
                    userId: userID, displayName: nil, birthdate: nil, gender: nil, seeking: nil, bio: nil),
                correlationID: "seam-tests")
            let context = harness.context(for: ProfileUpdateRequested.eventType, replyTo: nil)
            do {
                _ = try await harness.deliver(update, to: ConflictingUpdates(), context: context)
                Issue.record("a request without reply_to was handled")
            } catch let failure as PermanentFailure {
                #expect(failure.reason == "no-reply-to")
            }
            // Not claimed: with a reply_to it is handled.
            let answered = try await harness.deliver(update, to: ConflictingUpdates())
            #expect(!answered.duplicate)
        }
    }

    @Test("a delivery's context: its queue, the try it is, its replay, its deadline and reply_to")
    func contextOfDelivery() throws {
        let deadline = Date(timeIntervalSince1970: 1_795_348_800)
        let properties = MessageProperties(
            replyTo: "amq.rabbitmq.reply-to.tests",
            headers: [
                DeadLetterHeader.attempts: .int(2), ReplayHeader.replayID: .string("replay-1"),
                RequestHeader.deadline: RequestHeader.value(of: deadline),
            ])
        let delivery = Delivery(
            body: [], properties: properties, exchange: "", routingKey: "ProfileUpdateRequested",
            redelivered: false, deliveryTag: 1, generation: 1, queue: "ProfileUpdateRequested.profile")
        let headers = try TrustedHeaders.read(delivery.properties.headers).get()
        #expect(
            MessageContext(delivery: delivery, headers: headers)
                == MessageContext(
                    queue: "ProfileUpdateRequested.profile", attempt: 3, replayID: "replay-1", deadline: deadline,
                    replyTo: "amq.rabbitmq.reply-to.tests"))
        #expect(MessageContext(queue: "A.tests").attempt == 1, "a first delivery by default")
    }
}
