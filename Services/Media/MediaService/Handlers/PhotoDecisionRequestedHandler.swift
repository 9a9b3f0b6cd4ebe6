import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `PhotoDecisionRequested` → a moderator's decision, recorded with who made it:
/// - approve: a photo waiting for review is approved (`PhotoApproved`);
/// - reject: a photo waiting for review or shown already is rejected with the reason
///   (`PhotoRejected`), its hash blocked so that a near copy is refused whoever uploads it,
///   its blobs queued for deletion and the owner's other photos moved up; near copies that
///   others show already are taken down with it (each `PhotoRejected`, code `blocked`).
///
/// An unknown or removed photo is `notFound`; one the decision does not fit (approving an
/// approved photo, deciding a rejected one) is a `conflict`.
struct PhotoDecisionRequestedHandler: RequestHandler {
    let now: @Sendable () -> Date

    static let defaultReason = "rejected by a moderator"

    func handle(
        _ request: Envelope<PhotoDecisionRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<PhotoDecided, RequestFailed> {
        let decision = request.data
        if let reason = decision.reason, reason.count > PhotoLimits.reasonMaxLength {
            return .failure(
                RequestFailed(
                    code: .validationFailed, detail: "the reason is too long",
                    fieldErrors: [
                        FieldError(
                            field: "reason", message: "must be at most \(PhotoLimits.reasonMaxLength) characters")
                    ]))
        }
        guard let found = try PhotoStore.find(id: decision.photoId, on: database), found.status != .removed else {
            return .failure(RequestFailed(code: .notFound, detail: "no such photo"))
        }
        try PhotoStore.lockUser(found.userID, on: database)
        let time = now()
        let sequence = { try PhotoStore.nextSequence(userID: found.userID, on: database) }
        switch decision.decision {
        case .approve:
            guard let approved = try PhotoStore.approve(id: found.id, by: decision.moderatorId, at: time, on: database)
            else { return .failure(Self.conflict(found)) }
            try PhotoEventOutbox.append(
                PhotoApproved(
                    userId: approved.userID, photoId: approved.id, position: approved.position, approvedAt: time,
                    sequence: try sequence()), owner: approved.userID, causedBy: request, at: time, on: database)
            return .success(
                PhotoDecided(
                    photoId: approved.id, userId: approved.userID, status: .approved, reason: nil, decidedAt: time))
        case .reject:
            guard [.pendingReview, .approved].contains(found.status) else { return .failure(Self.conflict(found)) }
            let reason = decision.reason ?? Self.defaultReason
            guard
                let rejected = try PhotoStore.reject(
                    id: found.id, code: PhotoRejection.Code.moderator.rawValue, reason: reason, at: time, on: database)
            else { return .failure(Self.conflict(found)) }
            try PhotoStore.recordDecision(id: rejected.id, by: decision.moderatorId, at: time, on: database)
            try PhotoStore.queueDeletion(of: rejected.blobKeys, at: time, on: database)
            try PhotoEventOutbox.append(
                PhotoRejected(
                    userId: rejected.userID, photoId: rejected.id, code: PhotoRejection.Code.moderator.rawValue,
                    reason: reason, rejectedAt: time, sequence: try sequence()), owner: rejected.userID,
                causedBy: request, at: time, on: database)
            try PhotoEventOutbox.closeGap(of: rejected.userID, causedBy: request, at: time, on: database)
            if let hash = try PhotoStore.differenceHash(of: rejected.id, on: database) {
                try PhotoStore.block(photoID: rejected.id, hash: hash, at: time, on: database)
                try takeDownCopies(of: hash, causedBy: request, at: time, on: database)
            }
            return .success(
                PhotoDecided(
                    photoId: rejected.id, userId: rejected.userID, status: .rejected, reason: reason, decidedAt: time))
        }
    }

    /// Rejects the photos shown (or waiting for review) that are near copies of a blocked hash.
    private func takeDownCopies(
        of hash: UInt64, causedBy request: Envelope<PhotoDecisionRequested>, at time: Date,
        on database: DatabaseConnection
    ) throws {
        let reason = "a copy of a photo that was rejected before"
        for copy in try PhotoStore.shownNearCopies(of: hash, distance: PhotoRules.blockedHashDistance, on: database) {
            try PhotoStore.lockUser(copy.userID, on: database)
            guard
                let rejected = try PhotoStore.reject(
                    id: copy.id, code: PhotoRejection.Code.blocked.rawValue, reason: reason, at: time, on: database)
            else { continue }
            try PhotoStore.queueDeletion(of: rejected.blobKeys, at: time, on: database)
            try PhotoEventOutbox.append(
                PhotoRejected(
                    userId: rejected.userID, photoId: rejected.id, code: PhotoRejection.Code.blocked.rawValue,
                    reason: reason, rejectedAt: time,
                    sequence: try PhotoStore.nextSequence(userID: rejected.userID, on: database)),
                owner: rejected.userID, causedBy: request, at: time, on: database)
            try PhotoEventOutbox.closeGap(of: rejected.userID, causedBy: request, at: time, on: database)
        }
    }

    private static func conflict(_ photo: PhotoStore.Photo) -> RequestFailed {
        RequestFailed(code: .conflict, detail: "the photo is \(photo.status.rawValue)")
    }
}
