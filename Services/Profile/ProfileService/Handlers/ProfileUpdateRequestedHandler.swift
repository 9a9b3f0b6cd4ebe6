import Contracts
import Foundation
import Messaging
import Persistence
import ServiceRuntime

/// `ProfileUpdateRequested` → validated, stored with `ProfileUpdated` in the outbox, and
/// answered with `ProfileUpdated` (or the fields that are wrong).
///
/// Idempotent under the request's id: a redelivered request changes nothing again and is
/// answered with the profile as it is.
struct ProfileUpdateRequestedHandler: Sendable {
    let runtime: KindredRuntime
    let now: @Sendable () -> Date

    func handle(_ request: Envelope<ProfileUpdateRequested>, _ delivery: Delivery) async throws {
        let time = now()
        let valid: ValidProfile
        switch ProfileValidation.validate(request.data, today: time) {
        case .failure(let failure):
            try await runtime.respond(to: request, delivery: delivery, with: .failure(failure), now: time)
            return
        case .success(let profile):
            valid = profile
        }
        let userID = request.data.userId
        let stored = try await runtime.handleOnce(
            delivery, header: request.header,
            alreadyHandled: { connection in try ProfileStore.find(userID: userID, on: connection) },
            effects: { connection -> (ProfileDocument, Int64)? in
                guard
                    let (profile, sequence) = try ProfileStore.replace(
                        userID: userID, with: valid, at: time, on: connection)
                else { return nil }
                let updated = Envelope(
                    causedBy: request, source: .profile, time: time, subject: request.subject,
                    data: ProfileUpdated(profile: profile, sequence: sequence))
                try Outbox.append(updated, on: connection)
                return (profile, sequence)
            })
        let outcome: Result<ProfileUpdated, RequestFailed> =
            stored.map { .success(ProfileUpdated(profile: $0.0, sequence: $0.1)) }
            ?? .failure(RequestFailed(code: .notFound, detail: "this user has no profile yet"))
        try await runtime.respond(to: request, delivery: delivery, with: outcome, now: time)
    }
}
