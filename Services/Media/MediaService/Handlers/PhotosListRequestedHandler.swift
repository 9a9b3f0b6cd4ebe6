import Contracts
import Persistence
import ServiceRuntime

/// `PhotosListRequested` → the user's photos that are not removed, in order (the gateway
/// adds the signed URLs). It only reads.
struct PhotosListRequestedHandler: RequestHandler {
    static let isReadOnly = true

    func handle(
        _ request: Envelope<PhotosListRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<PhotosListed, RequestFailed> {
        .success(PhotosListed(photos: try PhotoStore.list(userID: request.data.userId, on: database).map(\.summary)))
    }
}
