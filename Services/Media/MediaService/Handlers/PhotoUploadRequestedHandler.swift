import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `PhotoUploadRequested` → a new photo, processing, with its upload kept until the
/// processing worker has turned it into variants; `PhotoUploaded` published and
/// `PhotoAccepted` answered. Refused (nothing kept): a user who has 6 photos already, those
/// processing included (conflict); an exact copy of one of their own photos (conflict); an
/// upload that is empty, too large or has no user; one from a user whose account was
/// erased (forbidden: their access token outlives the account by minutes). The photo's id is the request's id, so a
/// redelivery is the same photo (the runtime answers it with the kept answer anyway).
struct PhotoUploadRequestedHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<PhotoUploadRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<PhotoAccepted, RequestFailed> {
        guard let userID = request.subject.flatMap(UUID.init(uuidString:)) else {
            return .failure(RequestFailed(code: .validationFailed, detail: "an upload names its user as its subject"))
        }
        let upload = request.data.bytes
        guard !upload.isEmpty, upload.count <= PhotoLimits.maxUploadBytes else {
            return .failure(
                RequestFailed(
                    code: .validationFailed, detail: "the photo must be 1 byte to 10 MB",
                    fieldErrors: [FieldError(field: "photo", message: "must be 1 byte to 10 MB")]))
        }
        try PhotoStore.lockUser(userID, on: database)
        guard try !PhotoStore.isErased(userID, on: database) else {
            return .failure(RequestFailed(code: .forbidden, detail: "the account was deleted"))
        }
        guard try PhotoStore.count(userID: userID, on: database) < PhotoLimits.maxPhotosPerUser else {
            return .failure(
                RequestFailed(
                    code: .conflict, detail: "at most \(PhotoLimits.maxPhotosPerUser) photos; remove one first"))
        }
        let sha256 = BlobKey.of(upload)
        guard try !PhotoStore.hasCopy(userID: userID, sha256: sha256, on: database) else {
            return .failure(RequestFailed(code: .conflict, detail: "you uploaded this photo already"))
        }
        let time = now()
        guard
            let photo = try PhotoStore.insert(
                id: request.id, userID: userID, sha256: sha256, upload: upload, at: time, on: database)
        else { return .success(PhotoAccepted(photoId: request.id, status: .processing)) }
        let uploaded = PhotoUploaded(
            userId: userID, photoId: photo.id, uploadedAt: time,
            sequence: try PhotoStore.nextSequence(userID: userID, on: database))
        try PhotoEventOutbox.append(uploaded, owner: userID, causedBy: request, at: time, on: database)
        return .success(PhotoAccepted(photoId: photo.id, status: .processing))
    }
}
