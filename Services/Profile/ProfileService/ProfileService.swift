import Contracts
import Foundation
import ServiceRuntime

/// The profile service: profiles, created when an account is registered, read and
/// replaced through request events from the gateway.
public enum ProfileService {
    /// Builds the service's parts. `now` is the clock every handler reads.
    public static func build(
        runtime: KindredRuntime, reader: inout EnvironmentReader, now: @escaping @Sendable () -> Date = Date.init
    ) throws -> ServiceParts {
        let registered = UserRegisteredHandler(runtime: runtime, now: now)
        let requested = ProfileRequestedHandler(runtime: runtime, now: now)
        let updateRequested = ProfileUpdateRequestedHandler(runtime: runtime, now: now)
        let deletion = AccountDeletionRequestedHandler(runtime: runtime, now: now)
        return ServiceParts(
            migrations: ProfileMigrations.all,
            consumers: [
                runtime.consumer(of: UserRegistered.self, handler: registered.handle),
                runtime.consumer(of: GuestRegistered.self, handler: registered.handle),
                runtime.consumer(of: ProfileRequested.self, handler: requested.handle),
                runtime.consumer(of: ProfileUpdateRequested.self, handler: updateRequested.handle),
                runtime.consumer(of: AccountDeletionRequested.self, handler: deletion.handle),
            ])
    }
}
