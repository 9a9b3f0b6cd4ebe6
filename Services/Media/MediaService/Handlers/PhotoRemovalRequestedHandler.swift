import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `PhotoRemovalRequested` → the photo removed (its URLs answer 404 at once; its blobs go
/// once no photo shows them), `PhotoRemoved` published and answered, the rest moved up
/// (`PhotosReordered`); a
/// photo that is not the user's, or is removed already, is `notFound`.
struct PhotoRemovalRequestedHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<PhotoRemovalRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<PhotoRemoved, RequestFailed> {
        let (userID, photoID) = (request.data.userId, request.data.photoId)
        try PhotoStore.lockUser(userID, on: database)
        let time = now()
        guard try PhotoStore.remove(id: photoID, userID: userID, at: time, on: database) != nil else {
            return .failure(RequestFailed(code: .notFound, detail: "no such photo"))
        }
        let removed = PhotoRemoved(
            userId: userID, photoId: photoID, removedAt: time,
            sequence: try PhotoStore.nextSequence(userID: userID, on: database))
        try PhotoEventOutbox.append(removed, owner: userID, causedBy: request, at: time, on: database)
        try PhotoEventOutbox.closeGap(of: userID, causedBy: request, at: time, on: database)
        return .success(removed)
    }
}
