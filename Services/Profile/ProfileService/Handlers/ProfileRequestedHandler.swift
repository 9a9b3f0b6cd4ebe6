import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime

/// `ProfileRequested` → `ProfileFound`, or `RequestFailed(notFound)`.
struct ProfileRequestedHandler: Sendable {
    let runtime: KindredRuntime
    let now: @Sendable () -> Date

    func handle(_ request: Envelope<ProfileRequested>, _ delivery: Delivery) async throws {
        let userID = request.data.userId
        let found = try await runtime.pool.withConnection { connection in
            try ProfileStore.find(userID: userID, on: connection)?.0
        }
        let outcome: Result<ProfileFound, RequestFailed> =
            found.map { .success(ProfileFound(profile: $0)) }
            ?? .failure(RequestFailed(code: .notFound, detail: "this user has no profile yet"))
        try await runtime.respond(to: request, delivery: delivery, with: outcome, now: now())
    }
}
