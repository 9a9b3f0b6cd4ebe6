import Contracts
import Persistence
import ServiceRuntime

/// `PhotoRemoved` (from media) → the photo is not shown any more.
struct PhotoRemovedHandler: EventHandler {
    func handle(_ event: Envelope<PhotoRemoved>, context: MessageContext, database: DatabaseConnection) throws {
        // A user with no profile was deleted (or never had one): nothing of them is kept again.
        guard try ProfileStore.exists(event.data.userId, on: database) else { return }
        try PhotoProjectionStore.hide(
            photoID: event.data.photoId, userID: event.data.userId, sequence: event.data.sequence, on: database)
    }
}
