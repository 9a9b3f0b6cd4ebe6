import Contracts
import Persistence
import ServiceRuntime

/// `PhotoRejected` (from media, by its checks or a moderator) → the photo is not shown,
/// even if it was approved before.
struct PhotoRejectedHandler: EventHandler {
    func handle(_ event: Envelope<PhotoRejected>, context: MessageContext, database: DatabaseConnection) throws {
        // A user with no profile was deleted (or never had one): nothing of them is kept again.
        guard try ProfileStore.exists(event.data.userId, on: database) else { return }
        try PhotoProjectionStore.hide(
            photoID: event.data.photoId, userID: event.data.userId, sequence: event.data.sequence, on: database)
    }
}
