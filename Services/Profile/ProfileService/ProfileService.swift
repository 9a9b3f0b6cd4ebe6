import Contracts
import Foundation
import ServiceRuntime

/// The profile service: profiles (created when an account is registered, read and edited
/// through request events from the gateway), their location cells, attachment
/// assessments, reports and moderation.
public enum ProfileService {
    /// Builds the service's parts. `now` is the clock every handler reads.
    public static func build(
        runtime: KindredRuntime, reader: inout EnvironmentReader, now: @escaping @Sendable () -> Date = Date.init
    ) throws -> ServiceParts {
        ServiceParts(
            migrations: ProfileMigrations.all,
            handlers: [
                UserRegisteredHandler(now: now),
                GuestRegisteredHandler(now: now),
                ProfileRequestedHandler(),
                ProfileUpdateRequestedHandler(now: now),
                ProfileViewRequestedHandler(now: now),
                LocationUpdateRequestedHandler(now: now),
                AttachmentAssessmentSubmittedHandler(now: now),
                ReportFiledHandler(now: now),
                ReportsListRequestedHandler(),
                ReportDecisionRequestedHandler(now: now),
                UserBlockedHandler(),
                UserUnblockedHandler(),
                PhotoApprovedHandler(),
                PhotoRejectedHandler(),
                PhotoRemovedHandler(),
                PhotosReorderedHandler(),
                AccountDeletionRequestedHandler(now: now),
            ])
    }
}
