import Contracts
import Persistence
import ServiceRuntime

/// `PhotoApproved` (from media) → others may see the photo on the user's profile; a user
/// with no approved photo is shown to nobody.
struct PhotoApprovedHandler: EventHandler {
    func handle(_ event: Envelope<PhotoApproved>, context: MessageContext, database: DatabaseConnection) throws {
        // A user with no profile was deleted (or never had one): nothing of them is kept again.
        guard try ProfileStore.exists(event.data.userId, on: database) else { return }
        let approved = event.data
        try PhotoProjectionStore.approve(
            photoID: approved.photoId, userID: approved.userId, position: approved.position,
            sequence: approved.sequence, on: database)
    }
}
