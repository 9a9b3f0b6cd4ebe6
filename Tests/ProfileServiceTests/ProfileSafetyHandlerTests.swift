import Contracts
import Foundation
import Persistence
import ServiceRuntime
import TestSupport
import Testing

@testable import ProfileService

/// Reports, automatic action and moderators' decisions, through the handler runner
/// against a database of their own; time moves by hand.
@Suite("Profile handlers: reports and moderation", .serialized)
struct ProfileSafetyHandlerTests {
    let target = UUID()
    let moderator = UUID()

    func envelope<E: Event>(_ data: E, at time: Date) -> Envelope<E> {
        Envelope(source: .gateway, time: time, subject: nil, data: data, correlationID: "safety-tests")
    }

    func withHarness(_ body: (HandlerHarness, ManualClock) async throws -> Void) async throws {
        try await HandlerHarness.with(service: .profile, migrations: ProfileMigrations.all) { harness in
            try await body(harness, ManualClock(harness.now))
        }
    }

    func createProfile(_ user: UUID, in harness: HandlerHarness, clock: ManualClock) async throws {
        _ = try await harness.deliver(
            envelope(
                UserRegistered(userId: user, email: "\(user)@example.com", registeredAt: clock.now), at: clock.now),
            to: UserRegisteredHandler(now: clock.read))
    }

    func report(
        _ user: UUID, by reporter: UUID, reason: String = "spam", in harness: HandlerHarness, clock: ManualClock
    ) async throws -> AnsweredRequest<UserReported> {
        try await harness.deliver(
            envelope(ReportFiled(reporterId: reporter, userId: user, reason: reason, detail: "details"), at: clock.now),
            to: ReportFiledHandler(now: clock.read))
    }

    func decide(_ report: UUID, _ action: String, in harness: HandlerHarness, clock: ManualClock) async throws
        -> AnsweredRequest<ReportDecided>
    {
        try await harness.deliver(
            envelope(
                ReportDecisionRequested(moderatorId: moderator, reportId: report, action: action, note: "checked"),
                at: clock.now), to: ReportDecisionRequestedHandler(now: clock.read))
    }

    func moderation(of user: UUID, in harness: HandlerHarness) async throws -> ModerationState? {
        try await harness.pool.withConnection { try ProfileStore.find(userID: user, on: $0)?.moderation }
    }

    func failure<Reply>(_ answer: AnsweredRequest<Reply>) -> RequestFailed? {
        guard case .failure(let failure)? = answer.reply else { return nil }
        return failure
    }

    @Test("a report is filed once per pair while open, published without its detail, and refused for oneself")
    func filing() async throws {
        try await withHarness { harness, clock in
            try await createProfile(target, in: harness, clock: clock)
            let reporter = UUID()
            let filed = try await report(target, by: reporter, in: harness, clock: clock)
            let reported = try #require(try filed.reply?.get())
            #expect(reported.userId == target && reported.reason == .spam)
            let published = try filed.published(UserReported.self)
            #expect(published.map(\.data) == [reported])
            #expect(filed.outbox.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("details") })

            #expect(failure(try await report(target, by: reporter, in: harness, clock: clock))?.code == .conflict)
            #expect(failure(try await report(target, by: target, in: harness, clock: clock))?.code == .validationFailed)
            // About a user there is not: answered like any other report (no existence oracle),
            // refused as a duplicate the same way, never published or shown.
            let nobody = UUID()
            let void = try await report(nobody, by: reporter, in: harness, clock: clock)
            #expect(try void.reply?.get().userId == nobody)
            #expect(void.outbox.isEmpty)
            #expect(failure(try await report(nobody, by: reporter, in: harness, clock: clock))?.code == .conflict)
            let listed = try await harness.deliver(
                envelope(ReportsListRequested(moderatorId: moderator, status: "all"), at: clock.now),
                to: ReportsListRequestedHandler())
            #expect(try listed.reply?.get().reports.map(\.userId) == [target])
            let voidID = try #require(try void.reply?.get().reportId)
            #expect(failure(try await decide(voidID, "warn", in: harness, clock: clock))?.code == .notFound)
            #expect(
                failure(try await report(target, by: UUID(), reason: "rude", in: harness, clock: clock))?.code
                    == .validationFailed)
        }
    }

    @Test("at most 10 reports a day per reporter; the day rolls")
    func dailyLimit() async throws {
        try await withHarness { harness, clock in
            let reporter = UUID()
            var targets: [UUID] = []
            for _ in 0..<11 {
                let user = UUID()
                targets.append(user)
                try await createProfile(user, in: harness, clock: clock)
            }
            for user in targets.prefix(10) {
                #expect(
                    try await report(user, by: reporter, in: harness, clock: clock).reply.map { (try? $0.get()) != nil }
                        == true)
                clock.advance(60)
            }
            let eleventh = try await report(targets[10], by: reporter, in: harness, clock: clock)
            #expect(failure(eleventh)?.code == .tooManyRequests)
            // Until the first of the ten is a day old.
            #expect(failure(eleventh)?.retryAfterSeconds == 86_400 - 600)
            clock.advance(24 * 3600)
            #expect(failure(try await report(targets[10], by: reporter, in: harness, clock: clock)) == nil)
        }
    }

    @Test("reports from 3 distinct reporters within 30 days suspend the user: UserSuspended once")
    func threeReporters() async throws {
        try await withHarness { harness, clock in
            try await createProfile(target, in: harness, clock: clock)
            let reporters = [UUID(), UUID(), UUID()]
            let first = try await report(target, by: reporters[0], in: harness, clock: clock)
            #expect(try first.published(UserSuspended.self).isEmpty)
            clock.advance(10 * 86_400)
            _ = try await report(target, by: reporters[1], in: harness, clock: clock)
            #expect(try await moderation(of: target, in: harness) == ModerationState.none)
            clock.advance(10 * 86_400)
            let third = try await report(target, by: reporters[2], in: harness, clock: clock)
            let suspended = try third.published(UserSuspended.self)
            #expect(suspended.count == 1)
            #expect(suspended.first?.data.userId == target)
            #expect(try third.published(ProfileUpdated.self).first?.data.profile.discoverable == false)
            #expect(try await moderation(of: target, in: harness) == .suspended)

            let fourth = try await report(target, by: UUID(), in: harness, clock: clock)
            #expect(try fourth.published(UserSuspended.self).isEmpty, "suspended once")
        }
    }

    @Test("reports older than 30 days do not add up")
    func window() async throws {
        try await withHarness { harness, clock in
            try await createProfile(target, in: harness, clock: clock)
            _ = try await report(target, by: UUID(), in: harness, clock: clock)
            clock.advance(31 * 86_400)
            _ = try await report(target, by: UUID(), in: harness, clock: clock)
            _ = try await report(target, by: UUID(), in: harness, clock: clock)
            #expect(try await moderation(of: target, in: harness) == ModerationState.none)
        }
    }

    @Test("a reporter whose resolved reports were mostly dismissed no longer counts")
    func discountedReporter() async throws {
        try await withHarness { harness, clock in
            let serial = UUID()
            for _ in 0..<5 {
                let victim = UUID()
                try await createProfile(victim, in: harness, clock: clock)
                let filed = try #require(try await report(victim, by: serial, in: harness, clock: clock).reply?.get())
                _ = try await decide(filed.reportId, "dismiss", in: harness, clock: clock)
            }
            try await createProfile(target, in: harness, clock: clock)
            _ = try await report(target, by: serial, in: harness, clock: clock)
            _ = try await report(target, by: UUID(), in: harness, clock: clock)
            _ = try await report(target, by: UUID(), in: harness, clock: clock)
            #expect(try await moderation(of: target, in: harness) == ModerationState.none, "two counted reporters")
            let listed = try await harness.deliver(
                envelope(ReportsListRequested(moderatorId: moderator, status: "open"), at: clock.now),
                to: ReportsListRequestedHandler())
            let reports = try #require(try listed.reply?.get().reports)
            #expect(reports.count == 3)
            #expect(reports.filter { !$0.reporterCounted }.map(\.reporterId) == [serial])
            _ = try await report(target, by: UUID(), in: harness, clock: clock)
            #expect(try await moderation(of: target, in: harness) == .suspended)
        }
    }

    @Test("one underage report hides the profile at once; dismissing it lifts the hold")
    func underage() async throws {
        try await withHarness { harness, clock in
            try await createProfile(target, in: harness, clock: clock)
            let filed = try await report(target, by: UUID(), reason: "underage", in: harness, clock: clock)
            #expect(try await moderation(of: target, in: harness) == .held)
            #expect(try filed.published(UserSuspended.self).isEmpty, "a hold is not a suspension")
            #expect(try filed.published(ProfileUpdated.self).first?.data.profile.discoverable == false)
            let reportID = try #require(try filed.reply?.get().reportId)
            let dismissed = try await decide(reportID, "dismiss", in: harness, clock: clock)
            #expect(try dismissed.reply?.get().action == .dismiss)
            #expect(try await moderation(of: target, in: harness) == ModerationState.none)
            #expect(try dismissed.published(UserReinstated.self).isEmpty, "the gateway never saw a hold")

            // A warning upholds the report: the hold stays until a reinstatement.
            let again = try #require(
                try await report(target, by: UUID(), reason: "underage", in: harness, clock: clock).reply?.get())
            _ = try await decide(again.reportId, "warn", in: harness, clock: clock)
            #expect(try await moderation(of: target, in: harness) == .held)
            _ = try await decide(again.reportId, "reinstate", in: harness, clock: clock)
            #expect(try await moderation(of: target, in: harness) == ModerationState.none)
        }
    }

    @Test("decisions: every one an audit row and ReportDecided; suspend, ban and reinstate publish their events")
    func decisions() async throws {
        try await withHarness { harness, clock in
            try await createProfile(target, in: harness, clock: clock)
            let first = try #require(try await report(target, by: UUID(), in: harness, clock: clock).reply?.get())
            let warned = try await decide(first.reportId, "warn", in: harness, clock: clock)
            #expect(try warned.published(ReportDecided.self).map(\.data.action) == [.warn])
            #expect(failure(try await decide(first.reportId, "warn", in: harness, clock: clock))?.code == .conflict)

            let second = try #require(try await report(target, by: UUID(), in: harness, clock: clock).reply?.get())
            #expect(try await moderation(of: target, in: harness) == ModerationState.none)
            // A warned report still stands: with two more reporters, that is three.
            let third = try await report(target, by: UUID(), in: harness, clock: clock)
            #expect(try third.published(UserSuspended.self).count == 1)
            let banned = try await decide(second.reportId, "ban", in: harness, clock: clock)
            #expect(try banned.published(UserBanned.self).count == 1)
            #expect(try await moderation(of: target, in: harness) == .banned)

            // The ban closed the third report as superseded; an appeal reinstates against it.
            let thirdID = try #require(try third.reply?.get().reportId)
            let reinstated = try await decide(thirdID, "reinstate", in: harness, clock: clock)
            let lifted = try reinstated.published(UserReinstated.self)
            #expect(lifted.count == 1)
            let ban = try #require(try banned.published(UserBanned.self).first?.data.sequence)
            #expect((lifted.first?.data.sequence ?? 0) > ban, "moderation events are in order")
            #expect(try await moderation(of: target, in: harness) == ModerationState.none)

            let audit = try await harness.pool.withConnection { connection in
                try connection.execute("SELECT action, note FROM moderation_decisions ORDER BY decided_at, action").rows
                    .compactMap { $0.string("action") }
            }
            #expect(audit.sorted() == ["ban", "reinstate", "warn"])
            let statuses = try await harness.pool.withConnection { connection in
                try connection.execute("SELECT status FROM reports ORDER BY reported_at").rows.compactMap {
                    $0.string("status")
                }
            }
            #expect(statuses == ["actioned", "actioned", "superseded"], "a superseded report is not a dismissed one")
            #expect(failure(try await decide(UUID(), "warn", in: harness, clock: clock))?.code == .notFound)
            #expect(
                failure(try await decide(first.reportId, "obliterate", in: harness, clock: clock))?.code
                    == .validationFailed)
        }
    }

    @Test("account deletion erases reports about the user; reports they filed stay, anonymised")
    func deletion() async throws {
        try await withHarness { harness, clock in
            let leaver = UUID()
            let other = UUID()
            for user in [leaver, other] { try await createProfile(user, in: harness, clock: clock) }
            _ = try await report(other, by: leaver, in: harness, clock: clock)
            _ = try await report(leaver, by: other, in: harness, clock: clock)
            _ = try await harness.deliver(
                envelope(AccountDeletionRequested(userId: leaver, operationId: UUID()), at: clock.now),
                to: AccountDeletionRequestedHandler(now: clock.read))
            let rows = try await harness.pool.withConnection { connection in
                try connection.execute("SELECT reporter_id, target_id FROM reports").rows.map {
                    ($0.uuid("reporter_id"), $0.uuid("target_id"))
                }
            }
            #expect(rows.count == 1)
            #expect(rows.first?.0 == nil && rows.first?.1 == other)
        }
    }
}
