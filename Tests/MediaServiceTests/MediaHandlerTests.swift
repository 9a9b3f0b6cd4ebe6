import Contracts
import Foundation
import Logging
import Persistence
import ServiceRuntime
import TestSupport
import Testing

@testable import MediaService

/// Uploads and their processing, through the handler runner and the processing worker,
/// against a database of their own and a directory blob store; time moves by hand.
@Suite("Media handlers: uploads, processing, limits", .serialized)
struct MediaHandlerTests {
    let user = UUID()

    func withHarness(
        autoApprove: Bool = true,
        _ body: (HandlerHarness, ManualClock, PhotoProcessingWorker, DirectoryBlobStore) async throws -> Void
    ) async throws {
        try await HandlerHarness.with(service: .media, migrations: MediaMigrations.all) { harness in
            let clock = ManualClock(harness.now)
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("media-\(UUID())")
            defer { try? FileManager.default.removeItem(at: root) }
            let blobs = try DirectoryBlobStore(root: root)
            let worker = PhotoProcessingWorker(
                pool: harness.pool, committed: {}, logger: Logger(label: "tests"), blobs: blobs,
                autoApprove: autoApprove, now: clock.read)
            try await body(harness, clock, worker, blobs)
        }
    }

    func upload(_ bytes: [UInt8], by user: UUID? = nil, in harness: HandlerHarness, clock: ManualClock) async throws
        -> AnsweredRequest<PhotoAccepted>
    {
        var envelope = Envelope(
            source: .gateway, time: clock.now, subject: (user ?? self.user).uuidString,
            data: PhotoUploadRequested(bytes: bytes), correlationID: "media-tests")
        envelope.datacontenttype = "image/jpeg"
        return try await harness.deliver(envelope, to: PhotoUploadRequestedHandler(now: clock.read))
    }

    func list(in harness: HandlerHarness, clock: ManualClock) async throws -> [PhotoSummary] {
        try await harness.deliver(
            Envelope(
                source: .gateway, time: clock.now, subject: user.uuidString, data: PhotosListRequested(userId: user),
                correlationID: "media-tests"), to: PhotosListRequestedHandler()
        ).reply?.get().photos ?? []
    }

    func failure<R>(_ answer: AnsweredRequest<R>) -> RequestFailed? {
        guard case .failure(let failure)? = answer.reply else { return nil }
        return failure
    }

    @Test("an upload is taken as processing, then processed into clean variants and approved")
    func uploadAndProcess() async throws {
        try await withHarness { harness, clock, worker, blobs in
            let bytes = ImageFixtures.phoneJPEG(width: 1600, height: 1200, orientation: 6)
            let answer = try await upload(bytes, in: harness, clock: clock)
            let accepted = try #require(try answer.reply?.get())
            #expect(accepted.status == .processing)
            #expect(try answer.published(PhotoUploaded.self).map(\.data.photoId) == [accepted.photoId])
            #expect(try await list(in: harness, clock: clock).map(\.status) == [.processing])

            #expect(try await worker.processNext())
            #expect(try await worker.processNext() == false, "nothing left")
            let photos = try await list(in: harness, clock: clock)
            #expect(photos.map(\.status) == [.approved])
            #expect(photos.first?.width == 900 && photos.first?.height == 1200, "turned upright, 1200 on the long edge")
            let approved = try await harness.published(PhotoApproved.self)
            #expect(approved.map(\.data.photoId) == [accepted.photoId])
            #expect(approved.first?.subject == user.uuidString)

            let stored = try await harness.pool.withConnection { [id = accepted.photoId] connection in
                (
                    try PhotoStore.find(id: id, on: connection),
                    try connection.execute("SELECT count(*) AS n FROM photo_originals").first?.int("n")
                )
            }
            #expect(stored.1 == 0, "the upload is gone once processed")
            let displayKey = try #require(stored.0?.displayKey)
            let thumbnailKey = try #require(stored.0?.thumbnailKey)
            let display = try #require(try await blobs.get(displayKey))
            #expect(!String(decoding: display, as: UTF8.self).contains("Rivoli"))
            #expect(try await blobs.get(thumbnailKey) != nil)
        }
    }

    @Test("what the checks refuse is rejected with its reason, and does not count toward the six")
    func rejected() async throws {
        try await withHarness { harness, clock, worker, _ in
            _ = try await upload(Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 100), in: harness, clock: clock)
            _ = try await upload(ImageFixtures.jpeg(width: 200, height: 200), in: harness, clock: clock)
            while try await worker.processNext() {}
            let rejected = try await harness.published(PhotoRejected.self).map(\.data)
            #expect(Set(rejected.map(\.code)) == ["unsupported-type", "too-small"])
            #expect(rejected.allSatisfy { !$0.reason.isEmpty })
            #expect(try await list(in: harness, clock: clock).map(\.status) == [.rejected, .rejected])
            for seed in 0..<6 {
                let answer = try await upload(ImageFixtures.jpeg(seed: seed), in: harness, clock: clock)
                #expect(failure(answer) == nil, "photo \(seed + 1) of 6")
            }
        }
    }

    @Test("at most six photos, processing ones included; an exact copy of one's own is refused")
    func limits() async throws {
        try await withHarness { harness, clock, _, _ in
            for seed in 0..<6 { _ = try await upload(ImageFixtures.jpeg(seed: seed), in: harness, clock: clock) }
            let seventh = try await upload(ImageFixtures.jpeg(seed: 9), in: harness, clock: clock)
            #expect(failure(seventh)?.code == .conflict)
            #expect(seventh.outbox.isEmpty)
            let other = UUID()
            _ = try await upload(ImageFixtures.jpeg(seed: 1), by: other, in: harness, clock: clock)
            let copy = try await upload(ImageFixtures.jpeg(seed: 1), by: other, in: harness, clock: clock)
            #expect(failure(copy)?.code == .conflict, "the same bytes twice")
            #expect(failure(try await upload([], in: harness, clock: clock))?.code == .validationFailed)
        }
    }

    @Test("a near copy of a rejected photo is rejected again, by anyone")
    func blockList() async throws {
        try await withHarness { harness, clock, worker, _ in
            guard
                case .success(let original) = PhotoProcessor.process(
                    ImageFixtures.jpeg(width: 1600, height: 1200, seed: 3, quality: 95))
            else {
                Issue.record("the fixture does not process")
                return
            }
            try await harness.pool.withConnection { connection in
                try PhotoStore.block(photoID: UUID(), hash: original.differenceHash, at: clock.now, on: connection)
            }
            _ = try await upload(
                ImageFixtures.jpeg(width: 1000, height: 750, seed: 3, quality: 60), by: UUID(), in: harness,
                clock: clock)
            // A different picture: mirrored and upside down, its brightness runs the other way.
            let different =
                Codecs.encodeJPEG(ImageFixtures.pixels(width: 1000, height: 750, seed: 40).oriented(3)) ?? []
            _ = try await upload(different, by: UUID(), in: harness, clock: clock)
            while try await worker.processNext() {}
            let rejected = try await harness.published(PhotoRejected.self).map(\.data.code)
            let approved = try await harness.published(PhotoApproved.self)
            #expect(rejected == ["blocked"], "\(rejected)")
            #expect(approved.count == 1, "\(approved.count) approved")
        }
    }

    @Test("without auto-approval a processed photo waits for review")
    func pendingReview() async throws {
        try await withHarness(autoApprove: false) { harness, clock, worker, _ in
            _ = try await upload(ImageFixtures.jpeg(), in: harness, clock: clock)
            #expect(try await worker.processNext())
            #expect(try await list(in: harness, clock: clock).map(\.status) == [.pendingReview])
            #expect(try await harness.published(PhotoApproved.self).isEmpty)
        }
    }

    @Test("a claim lasts its lease: another worker takes the photo only once it has passed")
    func leases() async throws {
        try await withHarness { harness, clock, _, _ in
            _ = try await upload(ImageFixtures.jpeg(), in: harness, clock: clock)
            let first = try await harness.pool.transaction {
                try PhotoStore.claimNext(lease: 60, now: clock.now, on: $0)
            }
            #expect(first != nil && first?.1.isEmpty == false)
            let second = try await harness.pool.transaction {
                try PhotoStore.claimNext(lease: 60, now: clock.now, on: $0)
            }
            #expect(second == nil)
            clock.advance(61)
            let third = try await harness.pool.transaction {
                try PhotoStore.claimNext(lease: 60, now: clock.now, on: $0)
            }
            #expect(third?.0.id == first?.0.id, "the dead worker's photo is taken again")
        }
    }
}
