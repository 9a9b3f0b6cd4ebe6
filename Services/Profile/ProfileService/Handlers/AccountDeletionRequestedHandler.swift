import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `AccountDeletionRequested` → everything the service holds about the user is erased (the
/// profile with its cell, assessments, blocks, which photos are shown, reports about them with their audit) and
/// `UserDataErased` says so; reports they filed about others stay, without the reporter.
struct AccountDeletionRequestedHandler: EventHandler {
    let now: @Sendable () -> Date

    func handle(
        _ event: Envelope<AccountDeletionRequested>, context: MessageContext, database: DatabaseConnection
    ) throws {
        let userID = event.data.userId
        try ProfileStore.erase(userID: userID, on: database)
        try AssessmentStore.erase(userID: userID, on: database)
        try BlockStore.erase(userID: userID, on: database)
        try PhotoProjectionStore.erase(userID: userID, on: database)
        try ReportStore.erase(userID: userID, on: database)
        let erased = Envelope(
            causedBy: event, source: .profile, time: now(), subject: event.subject,
            data: UserDataErased(userId: event.data.userId, operationId: event.data.operationId, service: .profile))
        try Outbox.append(erased, on: database)
    }
}
