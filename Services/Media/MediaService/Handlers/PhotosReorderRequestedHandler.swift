import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `PhotosReorderRequested` → the user's photos in the order given (the first is the
/// primary), `PhotosReordered` published and answered. The order must name every photo of
/// theirs that is not removed or rejected, each once: anything else is named and changes nothing.
struct PhotosReorderRequestedHandler: RequestHandler {
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<PhotosReorderRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<PhotosReordered, RequestFailed> {
        let (userID, order) = (request.data.userId, request.data.photoIds)
        try PhotoStore.lockUser(userID, on: database)
        let current = try PhotoStore.orderable(userID: userID, on: database)
        guard order.count == current.count, Set(order) == Set(current), Set(order).count == order.count else {
            return .failure(
                RequestFailed(
                    code: .validationFailed, detail: "the order must name each of your photos once",
                    fieldErrors: [
                        FieldError(
                            field: "photoIds",
                            message: "must name each of your \(current.count) photos (not removed or rejected) once")
                    ]))
        }
        let time = now()
        try PhotoStore.setOrder(order, at: time, on: database)
        let reordered = PhotosReordered(
            userId: userID, photoIds: order, sequence: try PhotoStore.nextSequence(userID: userID, on: database))
        try PhotoEventOutbox.append(reordered, owner: userID, causedBy: request, at: time, on: database)
        return .success(reordered)
    }
}
