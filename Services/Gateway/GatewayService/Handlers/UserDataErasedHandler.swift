import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `UserDataErased` → the service is crossed off the deletion operation; when none is left,
/// the gateway erases the account itself and the operation is completed.
struct UserDataErasedHandler: EventHandler {
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserDataErased>, context: MessageContext, database: DatabaseConnection) throws {
        let remaining = try OperationStore.crossOff(
            service: event.data.service.rawValue, operationID: event.data.operationId, on: database)
        guard remaining == 0 else { return }
        try AccountStore.erase(userID: event.data.userId, on: database)
        try OperationStore.complete(operationID: event.data.operationId, at: now(), on: database)
    }
}
