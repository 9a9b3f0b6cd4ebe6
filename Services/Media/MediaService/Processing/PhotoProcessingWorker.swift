import Contracts
import Foundation
import Logging
import Persistence
import ServiceLifecycle
import ServiceRuntime

/// Turns uploads into variants, one photo at a time: claims the oldest processing photo
/// (a lease, so that a worker that dies leaves it to another after `leaseSeconds`), runs
/// `PhotoProcessor` off the cooperative pool, stores the variants, then in one transaction
/// records the outcome, drops the upload and appends `PhotoApproved` or `PhotoRejected`.
/// Blobs are content-addressed, so a photo processed twice after a crash stores the same
/// ones. After the photos it deletes the blobs no photo shows any more, then finishes the
/// account erasures whose blobs are gone (`UserDataErased`). It wakes after every
/// handler's commit, and polls every second for what other instances left.
public final class PhotoProcessingWorker: Service, Sendable {
    let pool: DatabasePool
    /// Wakes the outbox relay after a commit.
    let committed: @Sendable () -> Void
    let logger: Logger
    let blobs: any BlobStore
    let autoApprove: Bool
    let now: @Sendable () -> Date
    let leaseSeconds: Int
    private let signal = WakeSignal()

    init(
        pool: DatabasePool, committed: @escaping @Sendable () -> Void, logger: Logger, blobs: any BlobStore,
        autoApprove: Bool, leaseSeconds: Int = 60, now: @escaping @Sendable () -> Date
    ) {
        self.pool = pool
        self.committed = committed
        self.logger = logger
        self.blobs = blobs
        self.autoApprove = autoApprove
        self.leaseSeconds = leaseSeconds
        self.now = now
    }

    public func wake() { signal.wake() }

    public func run() async throws {
        await signal.run(polling: .seconds(1)) { [self] in
            do {
                while try await processNext() {}
                try await deleteUnusedBlobs()
                try await finishErasures()
            } catch {
                logger.warning("photo processing failed; it is tried again", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Processes the next photo waiting; false if there was none.
    @discardableResult
    func processNext() async throws -> Bool {
        let (leaseSeconds, time) = (self.leaseSeconds, now())
        guard
            let (photo, upload) = try await pool.transaction({
                try PhotoStore.claimNext(lease: leaseSeconds, now: time, on: $0)
            })
        else { return false }
        let outcome = await offloaded { PhotoProcessor.process(upload) }
        switch outcome {
        case .success(let processed):
            let displayKey = BlobKey.of(processed.display.bytes)
            let thumbnailKey = BlobKey.of(processed.thumbnail.bytes)
            // Named on the photo before they exist, so that no deletion pass or erasure misses them.
            let recorded = try await pool.transaction {
                try PhotoStore.recordVariants(
                    id: photo.id, displayKey: displayKey, thumbnailKey: thumbnailKey, now: time, on: $0)
            }
            switch recorded {
            case .recorded:
                break
            case .removed:
                try await pool.withConnection { try PhotoStore.releaseClaim(id: photo.id, on: $0) }
                return true
            case .blobBeingDeleted:
                // Another worker is deleting the same bytes: the photo is taken again on a later pass.
                try await pool.withConnection { try PhotoStore.releaseClaim(id: photo.id, on: $0) }
                return false
            }
            try await blobs.put(processed.display.bytes, key: displayKey, contentType: "image/jpeg")
            try await blobs.put(processed.thumbnail.bytes, key: thumbnailKey, contentType: "image/jpeg")
            try await record(photo, processed: processed, displayKey: displayKey, thumbnailKey: thumbnailKey)
        case .failure(let rejection):
            try await reject(photo, code: rejection.code.rawValue, reason: rejection.reason)
        }
        return true
    }

    /// Finishes the erasures whose photos are gone with their blobs: their rows are
    /// deleted and `UserDataErased` appended, in one transaction.
    func finishErasures() async throws {
        let time = now()
        let erasures = try await pool.withConnection { try PhotoStore.erasures(on: $0) }
        for erasure in erasures {
            let finished = try await pool.transaction { database in
                guard try PhotoStore.finishErasure(erasure, now: time, on: database) else { return false }
                try Outbox.append(
                    Envelope(
                        source: .media, time: time, subject: erasure.userID.uuidString,
                        data: UserDataErased(userId: erasure.userID, operationId: erasure.operationID, service: .media),
                        correlationID: erasure.correlationID, causationID: erasure.causationID,
                        traceparent: erasure.traceparent),
                    on: database)
                return true
            }
            if finished { committed() }
        }
    }

    /// Deletes the blobs removals and rejections left that no photo shows any more, each
    /// decided under the key's lock (`PhotoStore.beginBlobDeletion`), so that a worker
    /// storing the same bytes again at that moment waits for the deletion instead of losing
    /// its blob to it.
    func deleteUnusedBlobs() async throws {
        while true {
            let time = now()
            let keys = try await pool.withConnection { try PhotoStore.queuedBlobs(limit: 100, now: time, on: $0) }
            guard !keys.isEmpty else { return }
            for key in keys {
                guard try await pool.transaction({ try PhotoStore.beginBlobDeletion(key, now: time, on: $0) })
                else { continue }
                try await blobs.delete(key)
                try await pool.withConnection { try PhotoStore.finishBlobDeletion(key, on: $0) }
            }
        }
    }

    private func record(_ photo: PhotoStore.Photo, processed: ProcessedPhoto, displayKey: String, thumbnailKey: String)
        async throws
    {
        let (time, autoApprove) = (now(), self.autoApprove)
        let blocked = try await pool.withConnection {
            try PhotoStore.isBlocked(hash: processed.differenceHash, distance: PhotoRules.blockedHashDistance, on: $0)
        }
        if blocked {
            try await reject(
                photo, code: PhotoRejection.Code.blocked.rawValue,
                reason: "a copy of a photo that was rejected before", hash: processed.differenceHash,
                storedKeys: [displayKey, thumbnailKey])
            return
        }
        try await pool.transaction { database in
            guard
                let done = try PhotoStore.finishProcessing(
                    id: photo.id, status: autoApprove ? .approved : .pendingReview, processed: processed,
                    displayKey: displayKey, thumbnailKey: thumbnailKey, at: time, on: database)
            else {
                // Removed (or its account erased) while it was processed: what was just stored goes too.
                try PhotoStore.abandonProcessing(
                    id: photo.id, storedKeys: [displayKey, thumbnailKey], at: time, on: database)
                return
            }
            guard done.status == .approved else { return }
            let approved = PhotoApproved(
                userId: done.userID, photoId: done.id, position: done.position, approvedAt: time,
                sequence: try PhotoStore.nextSequence(userID: done.userID, on: database))
            try Self.publish(approved, about: done, at: time, on: database)
        }
        committed()
    }

    /// Appends an event about a photo to the outbox: its owner is the subject, and the
    /// photo's id the correlation (processing has no request of its own to follow).
    private static func publish<E: Event>(
        _ data: E, about photo: PhotoStore.Photo, at time: Date, on database: DatabaseConnection
    ) throws {
        try Outbox.append(
            Envelope(
                source: .media, time: time, subject: photo.userID.uuidString, data: data,
                correlationID: "photo-\(photo.id.uuidString.lowercased())"),
            on: database)
    }

    /// Rejects a photo with its reason; a near copy of a blocked photo has its own hash
    /// blocked too, and the variants already stored for it (`storedKeys`) are queued for deletion.
    private func reject(
        _ photo: PhotoStore.Photo, code: String, reason: String, hash: UInt64? = nil, storedKeys: [String] = []
    ) async throws {
        let time = now()
        try await pool.transaction { database in
            guard let rejected = try PhotoStore.reject(id: photo.id, code: code, reason: reason, at: time, on: database)
            else {
                try PhotoStore.abandonProcessing(id: photo.id, storedKeys: storedKeys, at: time, on: database)
                return
            }
            try PhotoStore.queueDeletion(of: storedKeys, at: time, on: database)
            if let hash { try PhotoStore.block(photoID: rejected.id, hash: hash, at: time, on: database) }
            let event = PhotoRejected(
                userId: rejected.userID, photoId: rejected.id, code: code, reason: reason, rejectedAt: time,
                sequence: try PhotoStore.nextSequence(userID: rejected.userID, on: database))
            try Self.publish(event, about: rejected, at: time, on: database)
        }
        committed()
    }
}
