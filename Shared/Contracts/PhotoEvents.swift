import Foundation

/// Where a photo is in its life: processing → pending-review → approved | rejected, and removed.
public enum PhotoStatus: String, Codable, Sendable, CaseIterable {
    case processing
    case pendingReview = "pending-review"
    case approved, rejected, removed
}

/// The rules of photos that the gateway and media both need.
public enum PhotoLimits {
    /// Bytes of an upload, at most: 10 MB (its base64 in `data_base64` stays under the
    /// services' 16 MiB message limit).
    public static let maxUploadBytes = 10 * 1024 * 1024
    public static let maxPhotosPerUser = 6
}

/// The gateway hands media a user's upload: the bytes in `data_base64`, the type the
/// client claimed as `datacontenttype`, the user as `subject`; the request's id is the
/// new photo's id, so a redelivered upload is the same photo.
public struct PhotoUploadRequested: BinaryEvent, RequestEvent {
    public typealias Reply = PhotoAccepted
    public static let eventType: EventType = "PhotoUploadRequested"
    public static let dataVersion = 1

    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
}

/// The answer to `PhotoUploadRequested`: taken, and processing.
public struct PhotoAccepted: Event {
    public static let eventType: EventType = "PhotoAccepted"
    public static let dataVersion = 1

    public var photoId: UUID
    public var status: PhotoStatus

    public init(photoId: UUID, status: PhotoStatus) {
        self.photoId = photoId
        self.status = status
    }
}

/// A photo of a user, as its owner (or a moderator) sees it listed.
public struct PhotoSummary: Codable, Sendable, Equatable {
    public var photoId: UUID
    public var userId: UUID
    public var status: PhotoStatus
    /// 0 for the primary photo, then 1, 2 …, among the user's photos that are not removed.
    public var position: Int
    /// Why it was rejected, for a rejected photo.
    public var reason: String?
    public var width: Int?
    public var height: Int?
    public var uploadedAt: Date

    public init(
        photoId: UUID, userId: UUID, status: PhotoStatus, position: Int, reason: String?, width: Int?, height: Int?,
        uploadedAt: Date
    ) {
        self.photoId = photoId
        self.userId = userId
        self.status = status
        self.position = position
        self.reason = reason
        self.width = width
        self.height = height
        self.uploadedAt = uploadedAt
    }
}

/// A photo was taken for processing.
public struct PhotoUploaded: SequencedEvent {
    public static let eventType: EventType = "PhotoUploaded"
    public static let dataVersion = 1

    public var userId: UUID
    public var photoId: UUID
    public var uploadedAt: Date
    /// The user's photo sequence (every photo event of the user counts).
    public var sequence: Int64

    public init(userId: UUID, photoId: UUID, uploadedAt: Date, sequence: Int64) {
        self.userId = userId
        self.photoId = photoId
        self.uploadedAt = uploadedAt
        self.sequence = sequence
    }
}

/// A photo may be shown.
public struct PhotoApproved: SequencedEvent {
    public static let eventType: EventType = "PhotoApproved"
    public static let dataVersion = 1

    public var userId: UUID
    public var photoId: UUID
    public var position: Int
    public var approvedAt: Date
    public var sequence: Int64

    public init(userId: UUID, photoId: UUID, position: Int, approvedAt: Date, sequence: Int64) {
        self.userId = userId
        self.photoId = photoId
        self.position = position
        self.approvedAt = approvedAt
        self.sequence = sequence
    }
}

/// A photo was rejected, by its checks or by a moderator.
public struct PhotoRejected: SequencedEvent {
    public static let eventType: EventType = "PhotoRejected"
    public static let dataVersion = 1

    public var userId: UUID
    public var photoId: UUID
    /// Machine-readable: `unsupported-type`, `corrupt`, `too-small`, `too-large`,
    /// `polyglot`, `blocked`, `moderator`.
    public var code: String
    public var reason: String
    public var rejectedAt: Date
    public var sequence: Int64

    public init(userId: UUID, photoId: UUID, code: String, reason: String, rejectedAt: Date, sequence: Int64) {
        self.userId = userId
        self.photoId = photoId
        self.code = code
        self.reason = reason
        self.rejectedAt = rejectedAt
        self.sequence = sequence
    }
}

/// The gateway asks for a user's own photos (`GET /v1/media/photos`).
public struct PhotosListRequested: RequestEvent {
    public typealias Reply = PhotosListed
    public static let eventType: EventType = "PhotosListRequested"
    public static let dataVersion = 1

    public var userId: UUID

    public init(userId: UUID) { self.userId = userId }
}

/// The answer to `PhotosListRequested`: the photos that are not removed, in order.
public struct PhotosListed: Event {
    public static let eventType: EventType = "PhotosListed"
    public static let dataVersion = 1

    public var photos: [PhotoSummary]

    public init(photos: [PhotoSummary]) { self.photos = photos }
}

/// The gateway asks to put a user's photos in a new order (`PUT /v1/media/photos/order`):
/// every photo of theirs that is not removed or rejected, each once; the first is the primary.
public struct PhotosReorderRequested: RequestEvent {
    public typealias Reply = PhotosReordered
    public static let eventType: EventType = "PhotosReorderRequested"
    public static let dataVersion = 1

    public var userId: UUID
    public var photoIds: [UUID]

    public init(userId: UUID, photoIds: [UUID]) {
        self.userId = userId
        self.photoIds = photoIds
    }
}

/// A user's photos are in a new order (the first is the primary). Also the answer to
/// `PhotosReorderRequested`.
public struct PhotosReordered: SequencedEvent {
    public static let eventType: EventType = "PhotosReordered"
    public static let dataVersion = 1

    public var userId: UUID
    public var photoIds: [UUID]
    public var sequence: Int64

    public init(userId: UUID, photoIds: [UUID], sequence: Int64) {
        self.userId = userId
        self.photoIds = photoIds
        self.sequence = sequence
    }
}

/// The gateway asks to remove one of a user's photos (`DELETE /v1/media/photos/{id}`).
public struct PhotoRemovalRequested: RequestEvent {
    public typealias Reply = PhotoRemoved
    public static let eventType: EventType = "PhotoRemovalRequested"
    public static let dataVersion = 1

    public var userId: UUID
    public var photoId: UUID

    public init(userId: UUID, photoId: UUID) {
        self.userId = userId
        self.photoId = photoId
    }
}

/// A photo was removed; its URLs answer 404 from now on. Also the answer to `PhotoRemovalRequested`.
public struct PhotoRemoved: SequencedEvent {
    public static let eventType: EventType = "PhotoRemoved"
    public static let dataVersion = 1

    public var userId: UUID
    public var photoId: UUID
    public var removedAt: Date
    public var sequence: Int64

    public init(userId: UUID, photoId: UUID, removedAt: Date, sequence: Int64) {
        self.userId = userId
        self.photoId = photoId
        self.removedAt = removedAt
        self.sequence = sequence
    }
}

/// A moderator lists photos by status (`GET /v1/admin/photos?status=`), oldest first.
public struct PhotoReviewListRequested: RequestEvent {
    public typealias Reply = PhotoReviewListed
    public static let eventType: EventType = "PhotoReviewListRequested"
    public static let dataVersion = 1

    public var moderatorId: UUID
    /// `pending-review` (what the gateway asks by default), `approved`, `rejected` or `processing`.
    public var status: String

    public init(moderatorId: UUID, status: String) {
        self.moderatorId = moderatorId
        self.status = status
    }
}

/// The answer to `PhotoReviewListRequested`: oldest first, at most `PhotoReviewListed.limit`.
public struct PhotoReviewListed: Event {
    public static let eventType: EventType = "PhotoReviewListed"
    public static let dataVersion = 1
    public static let limit = 200

    public var photos: [PhotoSummary]

    public init(photos: [PhotoSummary]) { self.photos = photos }
}

/// What a moderator decides about a photo.
public enum PhotoDecision: String, Codable, Sendable, CaseIterable {
    /// A photo waiting for review may be shown.
    case approve
    /// A photo waiting for review, or one shown already, is taken down; its near copies
    /// are refused from then on, whoever uploads them.
    case reject
}

/// A moderator decides a photo (`POST /v1/admin/photos/{id}/decision`).
public struct PhotoDecisionRequested: RequestEvent {
    public typealias Reply = PhotoDecided
    public static let eventType: EventType = "PhotoDecisionRequested"
    public static let dataVersion = 1

    public var moderatorId: UUID
    public var photoId: UUID
    public var decision: PhotoDecision
    /// Shown to the photo's owner when it is rejected.
    public var reason: String?

    public init(moderatorId: UUID, photoId: UUID, decision: PhotoDecision, reason: String?) {
        self.moderatorId = moderatorId
        self.photoId = photoId
        self.decision = decision
        self.reason = reason
    }
}

/// The answer to `PhotoDecisionRequested` (the owner learns of it by `PhotoApproved` or `PhotoRejected`).
public struct PhotoDecided: Event {
    public static let eventType: EventType = "PhotoDecided"
    public static let dataVersion = 1

    public var photoId: UUID
    public var userId: UUID
    public var status: PhotoStatus
    public var reason: String?
    public var decidedAt: Date

    public init(photoId: UUID, userId: UUID, status: PhotoStatus, reason: String?, decidedAt: Date) {
        self.photoId = photoId
        self.userId = userId
        self.status = status
        self.reason = reason
        self.decidedAt = decidedAt
    }
}

extension PhotoLimits {
    /// Characters of a moderator's reason for a rejection, at most.
    public static let reasonMaxLength = 500
}
