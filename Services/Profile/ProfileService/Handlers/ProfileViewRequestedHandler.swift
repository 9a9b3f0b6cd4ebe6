import Contracts
import Foundation
import Persistence
import ServiceRuntime

/// `ProfileViewRequested` → `ProfileViewFound` (what the viewer may see: an age, a distance
/// band, the approved photos), or the same `RequestFailed(notFound)` for a user who does
/// not exist, has paused or is incomplete, has no approved photo, is suspended, banned or
/// held for review, was deleted, or is on either side of a block with the viewer: from
/// outside, none can be told from another. Users see their own profile as others would,
/// photo or not. It only reads.
struct ProfileViewRequestedHandler: RequestHandler {
    static let isReadOnly = true
    let now: @Sendable () -> Date

    func handle(
        _ request: Envelope<ProfileViewRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<ProfileViewFound, RequestFailed> {
        let notFound = RequestFailed(code: .notFound, detail: "no such profile")
        let (viewerID, userID) = (request.data.viewerId, request.data.userId)
        guard let profile = try ProfileStore.find(userID: userID, on: database) else { return .failure(notFound) }
        let viewer = viewerID == userID ? profile : try ProfileStore.find(userID: viewerID, on: database)
        let blocked = try viewerID != userID && BlockStore.eitherBlocked(viewerID, userID, on: database)
        guard !blocked, var view = profile.publicView(for: viewer, today: now()) else { return .failure(notFound) }
        view.photoIds = try PhotoProjectionStore.shown(userID: userID, on: database)
        guard !view.photoIds.isEmpty || viewerID == userID else { return .failure(notFound) }
        return .success(ProfileViewFound(profile: view))
    }
}
