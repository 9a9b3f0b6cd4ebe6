import Foundation
import Persistence

/// The SQL of the `operations` table the erasure handler works on: long-running operations
/// (account deletion) and the services each still waits for.
enum OperationStore {
    /// Crosses `service` off a pending operation; returns how many services it still waits
    /// for, or nil when there is no such pending operation.
    static func crossOff(service: String, operationID: UUID, on connection: DatabaseConnection) throws -> Int? {
        try connection.execute(
            """
            UPDATE operations SET waiting_for = array_remove(waiting_for, $2)
            WHERE operation_id = $1 AND status = 'pending'
            RETURNING cardinality(waiting_for) AS remaining
            """, [operationID, service]
        ).first?.int("remaining")
    }

    static func complete(operationID: UUID, at time: Date, on connection: DatabaseConnection) throws {
        try connection.execute(
            "UPDATE operations SET status = 'completed', completed_at = $2 WHERE operation_id = $1",
            [operationID, time])
    }
}
