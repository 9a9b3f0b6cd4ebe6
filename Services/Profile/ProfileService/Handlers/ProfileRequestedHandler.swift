import Contracts
import Persistence
import ServiceRuntime

/// `ProfileRequested` → `ProfileFound` (the owner's whole profile), or
/// `RequestFailed(notFound)`. It only reads.
struct ProfileRequestedHandler: RequestHandler {
    static let isReadOnly = true

    func handle(
        _ request: Envelope<ProfileRequested>, context: MessageContext, database: DatabaseConnection
    ) throws -> Result<ProfileFound, RequestFailed> {
        guard let found = try ProfileStore.find(userID: request.data.userId, on: database) else {
            return .failure(.noProfile)
        }
        return .success(ProfileFound(profile: found.document))
    }
}
