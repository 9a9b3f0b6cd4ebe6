import Contracts
import Foundation
import Hummingbird
import Persistence
import ServiceRuntime

/// An operation that takes longer than a request: answered 202 with its status URL.
struct OperationStatus: Codable, Sendable, Equatable {
    var operationId: UUID
    var kind: String
    var status: String
    var createdAt: Date
    var completedAt: Date?
}

/// `DELETE /v1/account` (202, then `GET /v1/operations/{id}` until `completed`); the routes
/// are listed in `GatewayAPI`.
///
/// The gateway stops the account signing in at once, asks every service that keeps user
/// data to erase its part (`AccountDeletionRequested`), and erases the account itself once
/// each has answered `UserDataErased`.
struct AccountRoutes: Sendable {
    let runtime: KindredRuntime
    let authenticator: Authenticator
    /// Ends the account's live streams here at once (elsewhere at their next heartbeat).
    let hub: LiveEventHub
    let now: @Sendable () -> Date

    func delete(_ request: Request, context: KindredRequestContext) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        let operationID = UUID()
        let time = now()
        let requested = Envelope(
            source: .gateway, time: time, subject: userID.uuidString,
            data: AccountDeletionRequested(userId: userID, operationId: operationID),
            correlationID: RequestID.of(request))
        let waitingFor = AccountDeletion.participants.map(\.rawValue).sorted()
        let existing = try await unavailableWhenDatabaseIsDown("the account database") {
            try await runtime.transaction { connection -> UUID? in
                guard try AccountStore.startDeletion(userID: userID, at: time, on: connection) else {
                    return try connection.execute(
                        "SELECT operation_id FROM operations WHERE user_id = $1 AND kind = 'account-deletion'", [userID]
                    ).first?.uuid("operation_id")
                }
                try connection.execute(
                    """
                    INSERT INTO operations (operation_id, user_id, kind, status, waiting_for, created_at)
                    VALUES ($1, $2, 'account-deletion', 'pending', $3::text[], $4)
                    """, [operationID, userID, waitingFor, time])
                try Outbox.append(requested, on: connection)
                return nil
            }
        }
        hub.disconnect(userID, reason: .accountClosed)
        let id = existing ?? operationID
        var answer = try jsonResponse(
            OperationStatus(operationId: id, kind: "account-deletion", status: "pending", createdAt: time),
            status: .accepted)
        answer.location = "/v1/operations/\(id.uuidString)"
        return answer
    }

    static let noSuchOperation = Problem(status: .notFound, type: "not-found", title: "No such operation")

    func operation(_ request: Request, context: KindredRequestContext, id: String) async throws -> Answer {
        let userID = try authenticator.userID(of: request, context: context)
        guard let operationID = UUID(uuidString: id) else { throw Self.noSuchOperation }
        let found = try await runtime.pool.withConnection { connection in
            try connection.execute(
                """
                SELECT operation_id, kind, status, created_at, completed_at FROM operations
                WHERE operation_id = $1 AND user_id = $2
                """, [operationID, userID]
            ).first.flatMap { row -> OperationStatus? in
                guard let kind = row.string("kind"), let status = row.string("status"),
                    let created = row.date("created_at")
                else { return nil }
                return OperationStatus(
                    operationId: operationID, kind: kind, status: status, createdAt: created,
                    completedAt: row.date("completed_at"))
            }
        }
        guard let found else { throw Self.noSuchOperation }
        return try jsonResponse(found)
    }
}
