import Contracts
import Foundation
import Persistence
import ServiceRuntime
import TestSupport
import Testing

@testable import ProfileService

/// The handlers of locations, assessments, other people's profiles and blocks, through the
/// runtime's handler runner against a database of their own; time moves by hand.
@Suite("Profile handlers: location, assessment, views, blocks", .serialized)
struct ProfileFeatureHandlerTests {
    let ada = UUID()
    let bob = UUID()

    func envelope<E: Event>(_ data: E, subject: UUID, at time: Date) -> Envelope<E> {
        Envelope(source: .gateway, time: time, subject: subject.uuidString, data: data, correlationID: "feature-tests")
    }

    /// A complete profile for `user`, aged 30 on `clock`'s day, with an approved photo.
    func createComplete(_ user: UUID, name: String, in harness: HandlerHarness, clock: ManualClock) async throws {
        _ = try await harness.deliver(
            envelope(
                UserRegistered(userId: user, email: "\(user)@example.com", registeredAt: clock.now), subject: user,
                at: clock.now), to: UserRegisteredHandler(now: clock.read))
        var update = ProfileUpdateRequested(
            userId: user, displayName: name, birthdate: "1996-01-15", gender: "woman", seeking: ["man"], bio: "Hi")
        update.interests = ["hiking", "chess"]
        let answer = try await harness.deliver(
            envelope(update, subject: user, at: clock.now), to: ProfileUpdateRequestedHandler(now: clock.read))
        #expect(throws: Never.self) { try answer.reply?.get() }
        try await photoEvent(
            PhotoApproved(userId: user, photoId: UUID(), position: 0, approvedAt: clock.now, sequence: 1), user: user,
            in: harness, clock: clock)
    }

    /// Delivers one of media's photo events about `user` to `handler`.
    func deliver<H: EventHandler>(
        _ data: H.Handled, to handler: H, user: UUID, in harness: HandlerHarness, clock: ManualClock
    ) async throws {
        _ = try await harness.deliver(
            Envelope(source: .media, time: clock.now, subject: user.uuidString, data: data, correlationID: "t"),
            to: handler)
    }

    func photoEvent(_ data: PhotoApproved, user: UUID, in harness: HandlerHarness, clock: ManualClock) async throws {
        try await deliver(data, to: PhotoApprovedHandler(), user: user, in: harness, clock: clock)
    }

    func photoEvent(_ data: PhotoRejected, user: UUID, in harness: HandlerHarness, clock: ManualClock) async throws {
        try await deliver(data, to: PhotoRejectedHandler(), user: user, in: harness, clock: clock)
    }

    func photoEvent(_ data: PhotoRemoved, user: UUID, in harness: HandlerHarness, clock: ManualClock) async throws {
        try await deliver(data, to: PhotoRemovedHandler(), user: user, in: harness, clock: clock)
    }

    func photoEvent(_ data: PhotosReordered, user: UUID, in harness: HandlerHarness, clock: ManualClock) async throws {
        try await deliver(data, to: PhotosReorderedHandler(), user: user, in: harness, clock: clock)
    }

    func move(_ user: UUID, to latitude: Double, _ longitude: Double, in harness: HandlerHarness, clock: ManualClock)
        async throws -> AnsweredRequest<LocationChanged>
    {
        let cell = try #require(LocationGrid.cell(latitude: latitude, longitude: longitude))
        return try await harness.deliver(
            envelope(LocationUpdateRequested(userId: user, cell: cell), subject: user, at: clock.now),
            to: LocationUpdateRequestedHandler(now: clock.read))
    }

    func view(_ user: UUID, by viewer: UUID, in harness: HandlerHarness, clock: ManualClock) async throws -> Result<
        ProfileViewFound, RequestFailed
    >? {
        try await harness.deliver(
            envelope(ProfileViewRequested(viewerId: viewer, userId: user), subject: viewer, at: clock.now),
            to: ProfileViewRequestedHandler(now: clock.read)
        ).reply
    }

    func withHarness(_ body: (HandlerHarness, ManualClock) async throws -> Void) async throws {
        try await HandlerHarness.with(service: .profile, migrations: ProfileMigrations.all) { harness in
            try await body(harness, ManualClock(harness.now))
        }
    }

    @Test("a location is kept as its cell only, published as LocationChanged and ProfileUpdated; once a minute")
    func location() async throws {
        try await withHarness { harness, clock in
            try await createComplete(ada, name: "Ada", in: harness, clock: clock)
            let first = try await move(ada, to: 48.85661, 2.35222, in: harness, clock: clock)
            let changed = try #require(try first.reply?.get())
            #expect(changed.cell == LocationGrid.cell(latitude: 48.85661, longitude: 2.35222))
            #expect(!changed.implausibleJump)
            #expect(try first.published(LocationChanged.self).map(\.data) == [changed])
            let updated = try first.published(ProfileUpdated.self)
            #expect(updated.first?.data.profile.cell == changed.cell)
            #expect(updated.first?.data.sequence == changed.sequence)
            // Nothing finer than the cell is anywhere in what was published or stored.
            for entry in first.outbox {
                let text = String(decoding: entry.body, as: UTF8.self)
                #expect(!text.contains("48.85") && !text.contains("2.352"), "\(text)")
            }
            let columns = try await harness.pool.withConnection { connection in
                try connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'profiles'"
                ).rows.compactMap { $0.string("column_name") }
            }
            let coordinates = columns.filter { $0.hasPrefix("lat") || $0.hasPrefix("lon") || $0.contains("point") }
            #expect(coordinates.isEmpty)
            #expect(columns.contains("cell_row"))

            clock.advance(30)
            let soon = try await move(ada, to: 48.86, 2.36, in: harness, clock: clock)
            guard case .failure(let tooSoon)? = soon.reply else {
                Issue.record("a second change within a minute was taken")
                return
            }
            #expect(tooSoon.code == .tooManyRequests && tooSoon.retryAfterSeconds == 30)
            #expect(soon.outbox.isEmpty)

            clock.advance(30)
            // Paris to New York a minute later: taken, but flagged.
            let jump = try await move(ada, to: 40.7128, -74.0060, in: harness, clock: clock)
            #expect(try jump.reply?.get().implausibleJump == true)
            let jumps = try await harness.pool.withConnection { [ada] connection in
                try connection.execute("SELECT location_jumps FROM profiles WHERE user_id = $1", [ada]).first?.int(
                    "location_jumps")
            }
            #expect(jumps == 1)
        }
    }

    @Test("a cell that is not on the grid is refused")
    func invalidCell() async throws {
        try await withHarness { harness, clock in
            try await createComplete(ada, name: "Ada", in: harness, clock: clock)
            let answer = try await harness.deliver(
                envelope(
                    LocationUpdateRequested(userId: ada, cell: GridCell(row: -4, column: 2)), subject: ada,
                    at: clock.now),
                to: LocationUpdateRequestedHandler(now: clock.read))
            guard case .failure(let failure)? = answer.reply else {
                Issue.record("taken")
                return
            }
            #expect(failure.code == .validationFailed)
        }
    }

    @Test("others see a profile only with an approved photo; photo events out of order end as the last one says")
    func photos() async throws {
        try await withHarness { harness, clock in
            try await createComplete(bob, name: "Bob", in: harness, clock: clock)
            _ = try await harness.deliver(
                envelope(
                    UserRegistered(userId: ada, email: "ada@example.com", registeredAt: clock.now), subject: ada,
                    at: clock.now), to: UserRegisteredHandler(now: clock.read))
            var update = ProfileUpdateRequested(
                userId: ada, displayName: "Ada", birthdate: "1996-01-15", gender: "woman", seeking: ["man"], bio: nil)
            update.interests = ["chess"]
            _ = try await harness.deliver(
                envelope(update, subject: ada, at: clock.now), to: ProfileUpdateRequestedHandler(now: clock.read))
            guard case .failure(let hidden)? = try await view(ada, by: bob, in: harness, clock: clock) else {
                Issue.record("a profile without a photo was shown")
                return
            }
            #expect(hidden == RequestFailed(code: .notFound, detail: "no such profile"))
            #expect(try await view(ada, by: ada, in: harness, clock: clock)?.get().profile.photoIds == [])

            let (first, second, third) = (UUID(), UUID(), UUID())
            func shown() async throws -> [UUID] {
                try await view(ada, by: bob, in: harness, clock: clock)?.get().profile.photoIds ?? []
            }
            // Media's order of events: approve 1 (seq 1), approve 2 (seq 2), reorder [2, 1, 3] (seq 3),
            // approve 3 at position 2 (seq 4), remove 1 (seq 5). They arrive shuffled.
            try await photoEvent(
                PhotosReordered(userId: ada, photoIds: [second, first, third], sequence: 3), user: ada, in: harness,
                clock: clock)
            try await photoEvent(
                PhotoApproved(userId: ada, photoId: second, position: 1, approvedAt: clock.now, sequence: 2), user: ada,
                in: harness, clock: clock)
            #expect(try await shown() == [second])
            try await photoEvent(
                PhotoApproved(userId: ada, photoId: third, position: 2, approvedAt: clock.now, sequence: 4), user: ada,
                in: harness, clock: clock)
            try await photoEvent(
                PhotoApproved(userId: ada, photoId: first, position: 0, approvedAt: clock.now, sequence: 1), user: ada,
                in: harness, clock: clock)
            #expect(
                try await shown() == [second, first, third], "the reorder wins over the older approvals' positions")
            try await photoEvent(
                PhotoRemoved(userId: ada, photoId: first, removedAt: clock.now, sequence: 5), user: ada, in: harness,
                clock: clock)
            try await photoEvent(
                PhotoApproved(userId: ada, photoId: first, position: 0, approvedAt: clock.now, sequence: 1), user: ada,
                in: harness, clock: clock)
            #expect(
                try await shown() == [second, third], "a late copy of an approval does not bring a removed photo back")
            try await photoEvent(
                PhotoRejected(
                    userId: ada, photoId: second, code: "moderator", reason: "no", rejectedAt: clock.now, sequence: 6),
                user: ada, in: harness, clock: clock)
            try await photoEvent(
                PhotoRejected(
                    userId: ada, photoId: third, code: "moderator", reason: "no", rejectedAt: clock.now, sequence: 7),
                user: ada, in: harness, clock: clock)
            guard case .failure? = try await view(ada, by: bob, in: harness, clock: clock) else {
                Issue.record("a profile whose photos were all taken down is still shown")
                return
            }
        }
    }

    @Test("others see an age and a distance band; the same notFound for missing, paused, blocked and held")
    func views() async throws {
        try await withHarness { harness, clock in
            try await createComplete(ada, name: "Ada", in: harness, clock: clock)
            try await createComplete(bob, name: "Bob", in: harness, clock: clock)
            _ = try await move(ada, to: 48.8566, 2.3522, in: harness, clock: clock)
            _ = try await move(bob, to: 48.8566 + 0.1, 2.3522, in: harness, clock: clock)  // 11 km north

            let seen = try #require(try await view(ada, by: bob, in: harness, clock: clock)?.get().profile)
            #expect(seen.displayName == "Ada" && seen.age == 30)
            #expect(seen.distance == DistanceBucket(label: "10–15 km", fromKm: 10, toKm: 15))
            #expect(seen.interests == ["hiking", "chess"])

            func notFound(_ user: UUID, _ why: String) async throws {
                guard case .failure(let failure)? = try await view(user, by: bob, in: harness, clock: clock) else {
                    Issue.record("\(why): shown")
                    return
                }
                #expect(failure == RequestFailed(code: .notFound, detail: "no such profile"), "\(why)")
            }
            try await notFound(UUID(), "a user who does not exist")

            var pause = ProfileUpdateRequested(
                userId: ada, displayName: nil, birthdate: nil, gender: nil, seeking: nil, bio: nil)
            pause.partial = true
            pause.visible = false
            _ = try await harness.deliver(
                envelope(pause, subject: ada, at: clock.now), to: ProfileUpdateRequestedHandler(now: clock.read))
            try await notFound(ada, "a paused profile")
            pause.visible = true
            _ = try await harness.deliver(
                envelope(pause, subject: ada, at: clock.now), to: ProfileUpdateRequestedHandler(now: clock.read))
            #expect(try await view(ada, by: bob, in: harness, clock: clock)?.get() != nil)

            let block = envelope(
                UserBlocked(blockerId: ada, blockedId: bob, blockedAt: clock.now), subject: ada, at: clock.now)
            _ = try await harness.deliver(block, to: UserBlockedHandler())
            try await notFound(ada, "a user who blocked the viewer")
            // A block hides both ways.
            guard case .failure? = try await view(bob, by: ada, in: harness, clock: clock) else {
                Issue.record("the blocker still sees the blocked")
                return
            }
            // An unblock older than the block (out of order) changes nothing; a newer one lifts it.
            _ = try await harness.deliver(
                envelope(
                    UserUnblocked(blockerId: ada, blockedId: bob, unblockedAt: clock.now - 5), subject: ada,
                    at: clock.now),
                to: UserUnblockedHandler())
            try await notFound(ada, "a block an older unblock arrived after")
            _ = try await harness.deliver(
                envelope(
                    UserUnblocked(blockerId: ada, blockedId: bob, unblockedAt: clock.now + 5), subject: ada,
                    at: clock.now),
                to: UserUnblockedHandler())
            #expect(try await view(ada, by: bob, in: harness, clock: clock)?.get() != nil)
            // A block naming a user with no profile (deleted) keeps nothing.
            _ = try await harness.deliver(
                envelope(
                    UserBlocked(blockerId: UUID(), blockedId: bob, blockedAt: clock.now), subject: bob, at: clock.now),
                to: UserBlockedHandler())
            let kept = try await harness.pool.withConnection { connection in
                try connection.execute("SELECT count(*) AS n FROM blocks").first?.int("n")
            }
            #expect(kept == 1)

            try await harness.pool.withConnection { [ada] connection in
                _ = try ProfileStore.setModeration(.held, userID: ada, at: clock.now, on: connection)
            }
            try await notFound(ada, "a profile held for review")
        }
    }

    @Test("an assessment is scored, kept with the earlier ones, published and answered; the latest counts")
    func assessment() async throws {
        try await withHarness { harness, clock in
            try await createComplete(ada, name: "Ada", in: harness, clock: clock)
            let anxious = AttachmentQuestionnaire.items.map { item in
                let keyed = item.subscale == .anxiety ? 6 : 2
                return item.reverseKeyed ? 8 - keyed : keyed
            }
            let handler = AttachmentAssessmentSubmittedHandler(now: clock.read)
            let first = try await harness.deliver(
                envelope(AttachmentAssessmentSubmitted(userId: ada, answers: anxious), subject: ada, at: clock.now),
                to: handler)
            let assessed = try #require(try first.reply?.get())
            #expect(assessed.anxiety == 6 && assessed.avoidance == 2 && assessed.style == .anxious)
            #expect(try first.published(AttachmentAssessed.self).map(\.data) == [assessed])
            #expect(try first.published(ProfileUpdated.self).first?.data.profile.attachmentStyle == .anxious)

            clock.advance(86_400)
            let retake = try await harness.deliver(
                envelope(
                    AttachmentAssessmentSubmitted(userId: ada, answers: Array(repeating: 4, count: 18)), subject: ada,
                    at: clock.now), to: handler)
            let second = try #require(try retake.reply?.get())
            #expect(second.style == .fearful)
            let (count, style) = try await harness.pool.withConnection { [ada] connection in
                (
                    try AssessmentStore.count(userID: ada, on: connection),
                    try ProfileStore.find(userID: ada, on: connection)?.attachmentStyle
                )
            }
            #expect(count == 2)
            #expect(style == .fearful)

            let bad = try await harness.deliver(
                envelope(AttachmentAssessmentSubmitted(userId: ada, answers: [1, 2, 3]), subject: ada, at: clock.now),
                to: handler)
            guard case .failure(let failure)? = bad.reply else {
                Issue.record("three answers were scored")
                return
            }
            #expect(failure.code == .validationFailed)
            #expect(bad.outbox.isEmpty)
        }
    }
}
