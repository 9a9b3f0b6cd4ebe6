import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// How the media handlers append their photo events: the photo's owner is the subject
/// (whose live stream shows it), and the request that caused it is the cause.
enum PhotoEventOutbox {
    static func append<E: Event, Cause: Event>(
        _ data: E, owner: UUID, causedBy cause: Envelope<Cause>, at time: Date, on database: DatabaseConnection
    ) throws {
        try Outbox.append(
            Envelope(causedBy: cause, source: .media, time: time, subject: owner.uuidString, data: data),
            on: database)
    }

    /// What a handler does after a user's photo left their order (removed, or rejected by a
    /// moderator): the rest move up to positions 0, 1, 2 …, and `PhotosReordered` tells the
    /// profile service, whose order would otherwise keep the gap (and tie the next photo
    /// with one already there).
    static func closeGap<Cause: Event>(
        of userID: UUID, causedBy cause: Envelope<Cause>, at time: Date, on database: DatabaseConnection
    ) throws {
        let order = try PhotoStore.orderable(userID: userID, on: database)
        try PhotoStore.setOrder(order, at: time, on: database)
        guard !order.isEmpty else { return }
        let reordered = PhotosReordered(
            userId: userID, photoIds: order, sequence: try PhotoStore.nextSequence(userID: userID, on: database))
        try append(reordered, owner: userID, causedBy: cause, at: time, on: database)
    }
}
