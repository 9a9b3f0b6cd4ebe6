import Contracts
import Persistence
import ServiceRuntime

/// The media service. It will own photos, their moderation and signed URLs; for now it runs the shared runtime: it migrates its own
/// database (outbox and inbox), declares the queues of the events the registry says it
/// consumes, and reports ready.
public enum MediaService {
    /// The service's own migrations, applied after the shared ones.
    static let migrations: [Migration] = []

    public static func build(runtime: KindredRuntime, reader: inout EnvironmentReader) throws -> ServiceParts {
        ServiceParts(migrations: migrations)
    }
}
