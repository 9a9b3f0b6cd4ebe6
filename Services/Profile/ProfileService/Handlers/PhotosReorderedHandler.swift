import Contracts
import Persistence
import ServiceRuntime

/// `PhotosReordered` (from media) → the user's photos are shown in the new order, the first as the primary.
struct PhotosReorderedHandler: EventHandler {
    func handle(_ event: Envelope<PhotosReordered>, context: MessageContext, database: DatabaseConnection) throws {
        // A user with no profile was deleted (or never had one): nothing of them is kept again.
        guard try ProfileStore.exists(event.data.userId, on: database) else { return }
        try PhotoProjectionStore.reorder(
            event.data.photoIds, userID: event.data.userId, sequence: event.data.sequence, on: database)
    }
}
