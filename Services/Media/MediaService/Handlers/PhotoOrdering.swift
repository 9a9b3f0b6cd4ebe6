import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// What a handler does after a user's photo left their order (removed, or rejected by a
/// moderator): the rest move up to positions 0, 1, 2 …, and `PhotosReordered` tells the
/// profile service, whose order would otherwise keep the gap (and tie the next photo
/// with one already there).
enum PhotoOrdering {
    static func closeGap<Cause: Event>(
        of userID: UUID, causedBy cause: Envelope<Cause>, at time: Date, on database: DatabaseConnection
    ) throws {
        let order = try PhotoStore.orderable(userID: userID, on: database)
        try PhotoStore.setOrder(order, at: time, on: database)
        guard !order.isEmpty else { return }
        let reordered = PhotosReordered(
            userId: userID, photoIds: order, sequence: try PhotoStore.nextSequence(userID: userID, on: database))
        try Outbox.append(
            Envelope(causedBy: cause, source: .media, time: time, subject: userID.uuidString, data: reordered),
            on: database)
    }
}
