import Contracts
import Foundation
import Persistence
import ServiceRuntime
import TestSupport
import Testing

@testable import MediaService

/// Moderation of photos waiting for review and account erasure, through the handler runner
/// and the processing worker; time moves by hand.
@Suite("Media handlers: moderation and erasure", .serialized)
struct MediaModerationTests {
    let user = UUID()
    let moderator = UUID()
    let helpers = MediaHandlerTests()

    func list(of owner: UUID, in harness: HandlerHarness, clock: ManualClock) async throws -> [PhotoSummary] {
        try await harness.deliver(
            Envelope(
                source: .gateway, time: clock.now, subject: owner.uuidString, data: PhotosListRequested(userId: owner),
                correlationID: "t"), to: PhotosListRequestedHandler()
        ).reply?.get().photos ?? []
    }

    func upload(_ bytes: [UInt8], by owner: UUID, in harness: HandlerHarness, clock: ManualClock) async throws -> UUID {
        var envelope = Envelope(
            source: .gateway, time: clock.now, subject: owner.uuidString, data: PhotoUploadRequested(bytes: bytes),
            correlationID: "moderation-tests")
        envelope.datacontenttype = "image/jpeg"
        return try #require(
            try await harness.deliver(envelope, to: PhotoUploadRequestedHandler(now: clock.read)).reply?.get().photoId)
    }

    func review(_ status: String, in harness: HandlerHarness, clock: ManualClock) async throws
        -> AnsweredRequest<PhotoReviewListed>
    {
        try await harness.deliver(
            Envelope(
                source: .gateway, time: clock.now, subject: moderator.uuidString,
                data: PhotoReviewListRequested(moderatorId: moderator, status: status), correlationID: "t"),
            to: PhotoReviewListRequestedHandler())
    }

    func decide(
        _ photoID: UUID, _ decision: PhotoDecision, reason: String? = nil, in harness: HandlerHarness,
        clock: ManualClock
    ) async throws -> AnsweredRequest<PhotoDecided> {
        try await harness.deliver(
            Envelope(
                source: .gateway, time: clock.now, subject: moderator.uuidString,
                data: PhotoDecisionRequested(
                    moderatorId: moderator, photoId: photoID, decision: decision, reason: reason),
                correlationID: "t"),
            to: PhotoDecisionRequestedHandler(now: clock.read))
    }

    @Test("moderators list photos waiting for review, oldest first, and approve or reject them")
    func decisions() async throws {
        try await MediaHandlerTests.withHarness(autoApprove: false) { harness, clock, worker, blobs in
            let first = try await upload(ImageFixtures.jpeg(seed: 1), by: user, in: harness, clock: clock)
            clock.advance(1)
            let second = try await upload(ImageFixtures.jpeg(seed: 20), by: user, in: harness, clock: clock)
            while try await worker.processNext() {}
            let waiting = try #require(try await review("pending-review", in: harness, clock: clock).reply?.get())
            #expect(waiting.photos.map(\.photoId) == [first, second])
            #expect(
                helpers.failure(try await review("removed", in: harness, clock: clock))?.fieldErrors?.first?.field
                    == "status")

            let approved = try await decide(first, .approve, in: harness, clock: clock)
            #expect(try approved.reply?.get().status == .approved)
            #expect(try approved.published(PhotoApproved.self).map(\.subject) == [user.uuidString])
            #expect(helpers.failure(try await decide(first, .approve, in: harness, clock: clock))?.code == .conflict)
            #expect(helpers.failure(try await decide(UUID(), .reject, in: harness, clock: clock))?.code == .notFound)

            let keys = try await harness.pool.withConnection { try PhotoStore.find(id: second, on: $0)?.blobKeys ?? [] }
            let rejected = try await decide(second, .reject, reason: "not a person", in: harness, clock: clock)
            #expect(try rejected.reply?.get().reason == "not a person")
            let event = try #require(try rejected.published(PhotoRejected.self).first)
            #expect(event.data.code == "moderator" && event.subject == user.uuidString)
            #expect(helpers.failure(try await decide(second, .approve, in: harness, clock: clock))?.code == .conflict)
            try await worker.deleteUnusedBlobs()
            for key in keys { #expect(try await blobs.get(key) == nil, "a rejected photo's blobs go") }
            let decider = try await harness.pool.withConnection {
                try $0.execute("SELECT decided_by FROM photos WHERE id = $1", [second]).first?.uuid("decided_by")
            }
            #expect(decider == moderator, "the audit keeps who decided")

            // An approved photo can be taken down later, and near copies others show go with it;
            // a new near copy is refused, by anyone.
            let other = UUID()
            let copy = try await upload(ImageFixtures.jpeg(seed: 1, quality: 80), by: other, in: harness, clock: clock)
            while try await worker.processNext() {}
            _ = try await decide(copy, .approve, in: harness, clock: clock)
            let taken = try await decide(first, .reject, in: harness, clock: clock)
            #expect(try taken.reply?.get().reason == PhotoDecisionRequestedHandler.defaultReason)
            let takenDown = try taken.published(PhotoRejected.self).map(\.data)
            #expect(takenDown.map(\.photoId) == [first, copy] && takenDown.last?.code == "blocked", "\(takenDown)")
            #expect(try await list(of: other, in: harness, clock: clock).map(\.status) == [.rejected])
            _ = try await upload(ImageFixtures.jpeg(seed: 1, quality: 70), by: UUID(), in: harness, clock: clock)
            while try await worker.processNext() {}
            let codes = try await harness.published(PhotoRejected.self).map(\.data.code)
            #expect(codes.last == "blocked", "\(codes)")
            #expect(
                helpers.failure(
                    try await decide(
                        first, .reject, reason: String(repeating: "x", count: 501), in: harness, clock: clock))?.code
                    == .validationFailed)
        }
    }

    @Test("a deletion decided for a blob holds off a worker storing the same bytes until it is done")
    func blobDeletionLock() async throws {
        try await MediaHandlerTests.withHarness { harness, clock, worker, blobs in
            let photo = try await upload(ImageFixtures.jpeg(seed: 8), by: user, in: harness, clock: clock)
            #expect(try await worker.processNext())
            let keys = try await harness.pool.withConnection { try PhotoStore.find(id: photo, on: $0)?.blobKeys ?? [] }
            let removal = Envelope(
                source: .gateway, time: clock.now, subject: user.uuidString,
                data: PhotoRemovalRequested(userId: user, photoId: photo), correlationID: "t")
            let removed = try await harness.deliver(removal, to: PhotoRemovalRequestedHandler(now: clock.read))
            #expect(try removed.published(PhotoRemoved.self).count == 1)
            // A worker decides to delete the display blob, and has not yet deleted it.
            let decided = try await harness.pool.transaction {
                try PhotoStore.beginBlobDeletion(keys[0], now: clock.now, on: $0)
            }
            #expect(decided)
            // The same bytes uploaded again: the worker waits instead of storing what is being deleted.
            let again = try await upload(ImageFixtures.jpeg(seed: 8), by: user, in: harness, clock: clock)
            #expect(try await worker.processNext() == false, "held off")
            #expect(try await list(of: user, in: harness, clock: clock).map(\.status) == [.processing])
            try await blobs.delete(keys[0])
            try await harness.pool.withConnection { try PhotoStore.finishBlobDeletion(keys[0], on: $0) }
            #expect(try await worker.processNext())
            try await worker.deleteUnusedBlobs()
            let shown = try await harness.pool.withConnection { try PhotoStore.find(id: again, on: $0) }
            #expect(shown?.status == .approved)
            for key in shown?.blobKeys ?? [] { #expect(try await blobs.get(key) != nil, "the new photo's blobs stay") }
        }
    }

    @Test("account erasure removes the photos at once, then the blobs and rows, then says UserDataErased, once")
    func erasure() async throws {
        try await MediaHandlerTests.withHarness { harness, clock, worker, blobs in
            let kept = UUID()
            let photo = try await upload(ImageFixtures.jpeg(seed: 5), by: user, in: harness, clock: clock)
            // The same bytes by someone else share the blobs, which must stay for them.
            _ = try await upload(ImageFixtures.jpeg(seed: 5), by: kept, in: harness, clock: clock)
            _ = try await upload(ImageFixtures.jpeg(seed: 6), by: user, in: harness, clock: clock)
            while try await worker.processNext() {}
            let keys = try await harness.pool.withConnection { try PhotoStore.find(id: photo, on: $0)?.blobKeys ?? [] }
            // A third upload is being processed by a worker when the erasure comes.
            _ = try await upload(ImageFixtures.jpeg(seed: 7), by: user, in: harness, clock: clock)
            let claimed = try await harness.pool.transaction {
                try PhotoStore.claimNext(lease: 60, now: clock.now, on: $0)
            }
            #expect(claimed != nil)

            let operation = UUID()
            let deletion = Envelope(
                source: .gateway, time: clock.now, subject: user.uuidString,
                data: AccountDeletionRequested(userId: user, operationId: operation), correlationID: "erase")
            let handled = try await harness.deliver(deletion, to: AccountDeletionRequestedHandler(now: clock.read))
            #expect(handled.outbox.isEmpty, "nothing is confirmed before the blobs are gone")
            #expect(try await list(of: user, in: harness, clock: clock).isEmpty, "the photos are gone at once")

            try await worker.finishErasures()
            #expect(try await harness.published(UserDataErased.self).isEmpty, "a worker still holds a claim")
            // That worker stores its variants, finds the photo removed and gives them up.
            let late = [Array("late display".utf8), Array("late thumbnail".utf8)]
            for bytes in late { try await blobs.put(bytes, key: BlobKey.of(bytes), contentType: "image/jpeg") }
            let claimedID = try #require(claimed?.0.id)
            try await harness.pool.transaction {
                try PhotoStore.abandonProcessing(
                    id: claimedID, storedKeys: late.map(BlobKey.of), at: clock.now, on: $0)
            }
            try await worker.finishErasures()
            #expect(try await harness.published(UserDataErased.self).isEmpty, "its blobs are not deleted yet")

            try await worker.deleteUnusedBlobs()
            for key in keys { #expect(try await blobs.get(key) != nil, "shared with another user") }
            for bytes in late { #expect(try await blobs.get(BlobKey.of(bytes)) == nil) }
            try await worker.finishErasures()
            let erased = try await harness.published(UserDataErased.self)
            #expect(erased.map(\.data) == [UserDataErased(userId: user, operationId: operation, service: .media)])
            #expect(erased.first?.correlationid == "erase" && erased.first?.causationid == deletion.id.uuidString)
            let left = try await harness.pool.withConnection {
                (
                    try $0.execute("SELECT count(*) AS n FROM photos WHERE user_id = $1", [user]).first?.int("n"),
                    try $0.execute("SELECT count(*) AS n FROM photos WHERE user_id = $1", [kept]).first?.int("n"),
                    try $0.execute("SELECT count(*) AS n FROM blob_deletions").first?.int("n")
                )
            }
            #expect(left.0 == 0 && left.1 == 1 && left.2 == 0, "\(left)")
            try await worker.finishErasures()
            #expect(try await harness.published(UserDataErased.self).count == 1, "said once")
            let redelivered = try await harness.deliver(deletion, to: AccountDeletionRequestedHandler(now: clock.read))
            #expect(redelivered.outbox.isEmpty)
            // The erased user's access token still works for minutes: their upload is refused.
            var afterErasure = Envelope(
                source: .gateway, time: clock.now, subject: user.uuidString,
                data: PhotoUploadRequested(bytes: ImageFixtures.jpeg(seed: 9)), correlationID: "late")
            afterErasure.datacontenttype = "image/jpeg"
            let refused = try await harness.deliver(afterErasure, to: PhotoUploadRequestedHandler(now: clock.read))
            #expect(helpers.failure(refused)?.code == .forbidden)
        }
    }
}
