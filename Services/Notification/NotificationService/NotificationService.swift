import Contracts
import Persistence
import ServiceRuntime

/// The notification service. It will own devices, the in-app inbox and push and e-mail delivery; for now it runs the shared runtime: it migrates its own
/// database (outbox and inbox), declares the queues of the events the registry says it
/// consumes, and reports ready.
public enum NotificationService {
    /// The service's own migrations, applied after the shared ones.
    static let migrations: [Migration] = []

    public static func build(runtime: KindredRuntime, reader: inout EnvironmentReader) throws -> ServiceParts {
        ServiceParts(migrations: migrations)
    }
}
