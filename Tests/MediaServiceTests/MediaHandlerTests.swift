import Contracts
import Foundation
import HTTPTypes
import Logging
import Persistence
import ServiceRuntime
import SignedURLs
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
        try await Self.withHarness(autoApprove: autoApprove, body)
    }

    /// A harness, its clock, a worker on it and the directory store the worker writes to.
    static func withHarness(
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

    @Test("photos are reordered as a whole; a removed photo leaves the order and its blobs go once unused")
    func reorderAndRemove() async throws {
        try await withHarness { harness, clock, worker, blobs in
            var ids: [UUID] = []
            for seed in 0..<3 {
                ids.append(
                    try #require(
                        try await upload(ImageFixtures.jpeg(seed: seed * 7), in: harness, clock: clock).reply?.get()
                            .photoId))
            }
            while try await worker.processNext() {}
            func reorder(_ order: [UUID]) async throws -> AnsweredRequest<PhotosReordered> {
                try await harness.deliver(
                    Envelope(
                        source: .gateway, time: clock.now, subject: user.uuidString,
                        data: PhotosReorderRequested(userId: user, photoIds: order), correlationID: "t"),
                    to: PhotosReorderRequestedHandler(now: clock.read))
            }
            let reordered = try await reorder([ids[2], ids[0], ids[1]])
            #expect(try reordered.reply?.get().photoIds == [ids[2], ids[0], ids[1]])
            #expect(try reordered.published(PhotosReordered.self).count == 1)
            #expect(try await list(in: harness, clock: clock).map(\.photoId) == [ids[2], ids[0], ids[1]])
            #expect(failure(try await reorder([ids[0], ids[1]]))?.code == .validationFailed, "one missing")
            #expect(failure(try await reorder([ids[0], ids[0], ids[1]]))?.code == .validationFailed, "one twice")
            #expect(failure(try await reorder([ids[0], ids[1], UUID()]))?.code == .validationFailed, "a stranger's")

            let keys = try await harness.pool.withConnection { [id = ids[2]] connection in
                try PhotoStore.find(id: id, on: connection).map { [$0.displayKey, $0.thumbnailKey].compactMap { $0 } }
                    ?? []
            }
            #expect(keys.count == 2)
            func remove(_ id: UUID, by owner: UUID? = nil) async throws -> AnsweredRequest<PhotoRemoved> {
                try await harness.deliver(
                    Envelope(
                        source: .gateway, time: clock.now, subject: user.uuidString,
                        data: PhotoRemovalRequested(userId: owner ?? user, photoId: id), correlationID: "t"),
                    to: PhotoRemovalRequestedHandler(now: clock.read))
            }
            #expect(failure(try await remove(ids[2], by: UUID()))?.code == .notFound, "not theirs")
            let removed = try await remove(ids[2])
            #expect(try removed.reply?.get().photoId == ids[2])
            #expect(failure(try await remove(ids[2]))?.code == .notFound, "removed already")
            let listed = try await list(in: harness, clock: clock)
            #expect(listed.map(\.photoId) == [ids[0], ids[1]] && listed.map(\.position) == [0, 1])
            for key in keys { #expect(try await blobs.get(key) != nil) }
            try await worker.deleteUnusedBlobs()
            for key in keys { #expect(try await blobs.get(key) == nil, "the removed photo's blobs are gone") }
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

/// The signed origin, on photos the worker processed.
@Suite("Media origin: signed, expiring URLs", .serialized)
struct MediaOriginTests {
    let user = UUID()
    static let keys = "k1:" + String(repeating: "5a", count: 32)

    @Test("a signed URL serves its variant with ETag and caching; tampered, expired, unknown and removed ones do not")
    func serving() async throws {
        try await MediaHandlerTests.withHarness { harness, clock, worker, blobs in
            var envelope = Envelope(
                source: .gateway, time: clock.now, subject: user.uuidString,
                data: PhotoUploadRequested(bytes: ImageFixtures.jpeg(width: 900, height: 700)), correlationID: "t")
            envelope.datacontenttype = "image/jpeg"
            let photo = try #require(
                try await harness.deliver(envelope, to: PhotoUploadRequestedHandler(now: clock.read)).reply?.get()
                    .photoId)
            #expect(try await worker.processNext())

            let signer = try MediaURLSigner(keysText: Self.keys, signingKeyID: "k1")
            let origin = MediaOrigin(pool: harness.pool, blobs: blobs, signer: signer, now: clock.read)
            let expires = Int64(clock.now.timeIntervalSince1970) + 1800
            func query(_ path: String) -> [String: String] {
                var found: [String: String] = [:]
                for item in URLComponents(string: "http://x" + path)?.queryItems ?? [] { found[item.name] = item.value }
                return found
            }
            let signed = query(signer.path(photoID: photo, variant: .display, expires: expires))
            let served = await origin.serve(
                photo: photo.uuidString, variant: "display", query: signed, ifNoneMatch: nil)
            #expect(served.status == .ok)
            #expect(served.headers["Content-Type"] == "image/jpeg")
            #expect(served.headers["X-Content-Type-Options"] == "nosniff")
            #expect(served.headers["Cache-Control"] == "private, max-age=1800")
            #expect(Array(served.body.prefix(3)) == [0xFF, 0xD8, 0xFF])
            let etag = try #require(served.headers["ETag"])
            let again = await origin.serve(
                photo: photo.uuidString, variant: "display", query: signed, ifNoneMatch: etag)
            #expect(again.status == .notModified && again.body.isEmpty)

            var tampered = signed
            tampered["exp"] = String(expires + 1)
            #expect(
                await origin.serve(photo: photo.uuidString, variant: "display", query: tampered, ifNoneMatch: nil)
                    .status == .forbidden)
            #expect(
                await origin.serve(photo: photo.uuidString, variant: "thumbnail", query: signed, ifNoneMatch: nil)
                    .status == .forbidden)
            #expect(
                await origin.serve(photo: photo.uuidString, variant: "display", query: [:], ifNoneMatch: nil).status
                    == .forbidden)
            let stranger = UUID()
            let strangerQuery = query(signer.path(photoID: stranger, variant: .display, expires: expires))
            #expect(
                await origin.serve(
                    photo: stranger.uuidString, variant: "display", query: strangerQuery, ifNoneMatch: nil
                ).status == .notFound)
            #expect(
                await origin.serve(photo: "../etc", variant: "display", query: signed, ifNoneMatch: nil).status
                    == .notFound)

            clock.advance(1801)
            let expired = await origin.serve(
                photo: photo.uuidString, variant: "display", query: signed, ifNoneMatch: nil)
            #expect(expired.status == .forbidden)
            #expect(expired.headers["Content-Type"] == "application/problem+json")
        }
    }
}
