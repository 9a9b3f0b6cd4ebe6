import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `AccountDeletionRequested` → every photo of the user is removed at once (its URLs answer
/// 404) and the erasure is kept; the processing worker deletes the blobs, then the rows,
/// and confirms with `UserDataErased` (`PhotoProcessingWorker.finishErasures`). The hashes
/// of their rejected photos stay on the block list, tied to no one.
struct AccountDeletionRequestedHandler: EventHandler {
    let now: @Sendable () -> Date

    func handle(
        _ event: Envelope<AccountDeletionRequested>, context: MessageContext, database: DatabaseConnection
    ) throws {
        let userID = event.data.userId
        try PhotoStore.lockUser(userID, on: database)
        try PhotoStore.beginErasure(
            operationID: event.data.operationId, userID: userID, correlationID: event.correlationid,
            causationID: event.id.uuidString, traceparent: event.traceparent, at: now(), on: database)
    }
}
