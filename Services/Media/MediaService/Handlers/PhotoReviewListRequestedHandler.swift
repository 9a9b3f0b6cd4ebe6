import Contracts
import Persistence
import ServiceRuntime

/// `PhotoReviewListRequested` → the photos of a status, oldest first, for a moderator (the
/// gateway checked the role and adds the signed URLs); a status that is not one photos
/// wait in is a validation failure naming `status`. It only reads.
struct PhotoReviewListRequestedHandler: RequestHandler {
    static let isReadOnly = true
    /// What a moderator may list: not `removed`, which nobody may see again.
    static let listable: [PhotoStatus] = [.pendingReview, .approved, .rejected, .processing]

    func handle(
        _ request: Envelope<PhotoReviewListRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<PhotoReviewListed, RequestFailed> {
        guard let status = PhotoStatus(rawValue: request.data.status), Self.listable.contains(status) else {
            let names = Self.listable.map(\.rawValue).joined(separator: ", ")
            return .failure(
                RequestFailed(
                    code: .validationFailed, detail: "the status is not one photos are listed by",
                    fieldErrors: [FieldError(field: "status", message: "must be one of \(names)")]))
        }
        let photos = try PhotoStore.list(status: status, limit: PhotoReviewListed.limit, on: database)
        return .success(PhotoReviewListed(photos: photos.map(\.summary)))
    }
}
