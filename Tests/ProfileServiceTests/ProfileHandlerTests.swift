import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime
import TestSupport
import Testing

@testable import ProfileService

/// Every profile handler through the runtime's handler runner, against a database of its
/// own, on the harness's fixed clock.
@Suite("Profile handlers", .serialized)
struct ProfileHandlerTests {
    let userID = UUID()

    func withHarness(_ body: (HandlerHarness) async throws -> Void) async throws {
        try await HandlerHarness.with(service: .profile, migrations: ProfileMigrations.all, body)
    }

    /// The date of birth of someone who turns `years` on the harness's day.
    func birthdate(_ years: Int, before now: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let born = calendar.date(byAdding: .year, value: -years, to: now) ?? now
        let parts = calendar.dateComponents([.year, .month, .day], from: born)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    func envelope<E: Event>(_ data: E, from source: ServiceName = .gateway, at time: Date) -> Envelope<E> {
        Envelope(
            source: source, time: time, subject: userID.uuidString, data: data, correlationID: "profile-handler-tests")
    }

    func registered(at time: Date) -> Envelope<UserRegistered> {
        envelope(UserRegistered(userId: userID, email: "\(userID)@example.com", registeredAt: time), at: time)
    }

    func update(
        at time: Date, displayName: String? = "Ada", birthdate: String?, gender: String? = "woman",
        seeking: [String]? = ["man", "nonbinary"], bio: String? = "Hi"
    ) -> Envelope<ProfileUpdateRequested> {
        envelope(
            ProfileUpdateRequested(
                userId: userID, displayName: displayName, birthdate: birthdate, gender: gender, seeking: seeking,
                bio: bio),
            at: time)
    }

    /// Creates the user's profile as registration does.
    func createProfile(in harness: HandlerHarness) async throws {
        let created = try await harness.deliver(
            registered(at: harness.now), to: UserRegisteredHandler(now: harness.clock))
        #expect(!created.duplicate)
    }

    /// The stored profile and its sequence.
    func stored(in harness: HandlerHarness) async throws -> (ProfileDocument, Int64)? {
        let userID = userID
        return try await harness.pool.withConnection { try ProfileStore.find(userID: userID, on: $0) }.map {
            ($0.document, $0.sequence)
        }
    }

    func failure<Reply>(_ reply: Result<Reply, RequestFailed>?) -> RequestFailed? {
        guard case .failure(let failure)? = reply else { return nil }
        return failure
    }

    @Test("a registered user gets one empty profile and one ProfileCreated, however often the event comes")
    func userRegistered() async throws {
        try await withHarness { harness in
            let event = registered(at: harness.now)
            let handler = UserRegisteredHandler(now: harness.clock)
            let first = try await harness.deliver(event, to: handler)
            #expect(!first.duplicate)
            #expect(first.outbox.count == 1)
            let created = try first.published(ProfileCreated.self)
            #expect(created.map(\.data) == [ProfileCreated(userId: userID, sequence: 1)])
            #expect(created.first?.causationid == event.id.uuidString)
            #expect(created.first?.correlationid == event.correlationid)
            #expect(created.first?.time == harness.now)

            let again = try await harness.deliver(event, to: handler)
            #expect(again.duplicate)
            #expect(again.outbox.isEmpty, "no second ProfileCreated")
            let profile = try await stored(in: harness)
            #expect(profile?.0.displayName == nil)
            #expect(profile?.1 == 1)
        }
    }

    @Test("a guest's profile starts with the display name they chose, once")
    func guestRegistered() async throws {
        try await withHarness { harness in
            let event = envelope(
                GuestRegistered(userId: userID, displayName: "Guest Ada", registeredAt: harness.now), at: harness.now)
            let handler = GuestRegisteredHandler(now: harness.clock)
            let first = try await harness.deliver(event, to: handler)
            #expect(!first.duplicate)
            #expect(
                try first.published(ProfileCreated.self).map(\.data) == [ProfileCreated(userId: userID, sequence: 1)])
            #expect(try await stored(in: harness)?.0.displayName == "Guest Ada")

            let again = try await harness.deliver(event, to: handler)
            #expect(again.duplicate)
            #expect(again.outbox.isEmpty)
        }
    }

    @Test("a profile request is answered with the profile, or notFound for a user without one")
    func profileRequested() async throws {
        try await withHarness { harness in
            let handler = ProfileRequestedHandler()
            let missing = try await harness.deliver(
                envelope(ProfileRequested(userId: userID), at: harness.now), to: handler)
            #expect(failure(missing.reply)?.code == .notFound)
            #expect(missing.outbox.isEmpty)

            try await createProfile(in: harness)
            let request = envelope(ProfileRequested(userId: userID), at: harness.now)
            let found = try await harness.deliver(request, to: handler)
            #expect(try found.reply?.get().profile.userId == userID)
            #expect(found.outbox.isEmpty)
            let header = try EnvelopeCodec().decodeHeader(try #require(found.replyBody))
            #expect(header.type == ProfileFound.eventType)
            #expect(header.causationid == request.id.uuidString)
            #expect(header.source == ServiceName.profile.source)
            #expect(header.time == harness.now)

            // A read claims nothing: asked again, it is answered again from the table.
            let again = try await harness.deliver(request, to: handler)
            #expect(!again.duplicate)
            #expect(try again.reply?.get().profile.userId == userID)
        }
    }

    @Test("a valid update is stored, published as ProfileUpdated with sequence 2, and answered with it")
    func validUpdate() async throws {
        try await withHarness { harness in
            try await createProfile(in: harness)
            let born = birthdate(30, before: harness.now)
            let request = update(at: harness.now, displayName: "  Ada  ", birthdate: born)
            let result = try await harness.deliver(request, to: ProfileUpdateRequestedHandler(now: harness.clock))
            #expect(!result.duplicate)
            let reply = try #require(try result.reply?.get())
            #expect(reply.sequence == 2)
            #expect(reply.profile.displayName == "Ada")
            #expect(reply.profile.birthdate == born)
            #expect(reply.profile.seeking == ["man", "nonbinary"])
            #expect(reply.profile.updatedAt == harness.now)

            let published = try result.published(ProfileUpdated.self)
            #expect(published.map(\.data) == [reply])
            #expect(published.first?.causationid == request.id.uuidString)
            #expect(result.outbox.count == 1)
            let header = try EnvelopeCodec().decodeHeader(try #require(result.replyBody))
            #expect(header.type == ProfileUpdated.eventType)
            #expect(header.causationid == request.id.uuidString)

            let profile = try await stored(in: harness)
            #expect(profile?.1 == 2)
            #expect(profile?.0.gender == "woman")
        }
    }

    @Test("an invalid update is answered validationFailed naming every bad field, and changes nothing")
    func invalidUpdate() async throws {
        try await withHarness { harness in
            try await createProfile(in: harness)
            let request = update(
                at: harness.now, displayName: "", birthdate: birthdate(17, before: harness.now), gender: "robot")
            let result = try await harness.deliver(request, to: ProfileUpdateRequestedHandler(now: harness.clock))
            let failed = try #require(failure(result.reply))
            #expect(failed.code == .validationFailed)
            #expect((failed.fieldErrors ?? []).map(\.field) == ["displayName", "birthdate", "gender"])
            #expect(result.outbox.isEmpty)
            #expect(try await stored(in: harness)?.1 == 1)
        }
    }

    @Test("a redelivered update is a duplicate: the identical answer again, no second event, no second bump")
    func redeliveredUpdate() async throws {
        try await withHarness { harness in
            try await createProfile(in: harness)
            let handler = ProfileUpdateRequestedHandler(now: harness.clock)
            let request = update(at: harness.now, birthdate: birthdate(30, before: harness.now))
            let first = try await harness.deliver(request, to: handler)
            #expect(!first.duplicate)
            #expect(try first.reply?.get().sequence == 2)

            let again = try await harness.deliver(
                request, to: handler,
                context: harness.context(
                    for: ProfileUpdateRequested.eventType, attempt: 2, replyTo: HandlerHarness.replyTo))
            #expect(again.duplicate)
            #expect(again.replyBody == first.replyBody, "the same envelope, byte for byte")
            #expect(try again.reply?.get().sequence == 2)
            #expect(again.outbox.isEmpty)
            #expect(try await stored(in: harness)?.1 == 2)
        }
    }

    @Test("an update of a user without a profile is answered notFound")
    func unknownUser() async throws {
        try await withHarness { harness in
            let request = update(at: harness.now, birthdate: birthdate(30, before: harness.now))
            let result = try await harness.deliver(request, to: ProfileUpdateRequestedHandler(now: harness.clock))
            #expect(failure(result.reply)?.code == .notFound)
            #expect(result.outbox.isEmpty)
        }
    }

    @Test("an update whose deadline has passed is dropped: nothing is committed, not even the claim")
    func expiredUpdate() async throws {
        try await withHarness { harness in
            try await createProfile(in: harness)
            let handler = ProfileUpdateRequestedHandler(now: harness.clock)
            let request = update(at: harness.now, birthdate: birthdate(30, before: harness.now))
            let late = harness.context(
                for: ProfileUpdateRequested.eventType, deadline: harness.now, replyTo: HandlerHarness.replyTo)
            await #expect(throws: RequestExpired.self) {
                try await harness.deliver(request, to: handler, context: late)
            }
            #expect(try await stored(in: harness)?.1 == 1)
            let updates = try await harness.pool.withConnection { connection in
                try connection.execute("SELECT count(*) AS count FROM outbox WHERE event_type = 'ProfileUpdated'")
                    .first?.int("count")
            }
            #expect(updates == 0)

            // In time, the same request is handled: the expired try left no inbox row.
            let inTime = harness.context(
                for: ProfileUpdateRequested.eventType, deadline: harness.now.addingTimeInterval(1),
                replyTo: HandlerHarness.replyTo)
            let result = try await harness.deliver(request, to: handler, context: inTime)
            #expect(!result.duplicate)
            #expect(try result.reply?.get().sequence == 2)
        }
    }

    @Test("account deletion erases the profile and says so with UserDataErased, once")
    func accountDeletion() async throws {
        try await withHarness { harness in
            try await createProfile(in: harness)
            let operationID = UUID()
            let event = envelope(AccountDeletionRequested(userId: userID, operationId: operationID), at: harness.now)
            let handler = AccountDeletionRequestedHandler(now: harness.clock)
            let first = try await harness.deliver(event, to: handler)
            #expect(!first.duplicate)
            #expect(
                try first.published(UserDataErased.self).map(\.data)
                    == [UserDataErased(userId: userID, operationId: operationID, service: .profile)])
            #expect(try await stored(in: harness)?.1 == nil, "the profile is gone")

            let again = try await harness.deliver(event, to: handler)
            #expect(again.duplicate)
            #expect(again.outbox.isEmpty)
        }
    }
}
