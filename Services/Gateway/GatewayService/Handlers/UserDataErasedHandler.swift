import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime

/// `UserDataErased` → the service is crossed off the deletion operation; when none is left,
/// the gateway erases the account itself and the operation is completed.
struct UserDataErasedHandler: Sendable {
    let runtime: KindredRuntime
    let now: @Sendable () -> Date

    func handle(_ event: Envelope<UserDataErased>, _ delivery: Delivery) async throws {
        let time = now()
        try await runtime.handleOnce(delivery, header: event.header) { connection in
            guard
                let remaining = try connection.execute(
                    """
                    UPDATE operations SET waiting_for = array_remove(waiting_for, $2)
                    WHERE operation_id = $1 AND status = 'pending'
                    RETURNING cardinality(waiting_for) AS remaining
                    """, [event.data.operationId, event.data.service.rawValue]
                ).first?.int("remaining"), remaining == 0
            else { return }
            try AccountStore.erase(userID: event.data.userId, on: connection)
            try connection.execute(
                "UPDATE operations SET status = 'completed', completed_at = $2 WHERE operation_id = $1",
                [event.data.operationId, time])
        }
    }
}
