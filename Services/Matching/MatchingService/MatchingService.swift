import Contracts
import Persistence
import ServiceRuntime

/// The matching service. It will own the discovery feed, swipes, matches and blocks; for now it runs the shared runtime: it migrates its own
/// database (outbox and inbox), declares the queues of the events the registry says it
/// consumes, and reports ready.
public enum MatchingService {
    /// The service's own migrations, applied after the shared ones.
    static let migrations: [Migration] = []

    public static func build(runtime: KindredRuntime, reader: inout EnvironmentReader) throws -> ServiceParts {
        ServiceParts(migrations: migrations)
    }
}
