import Contracts
import Persistence
import ServiceRuntime

/// The payment service. It will own plans, subscriptions, payments and the coin ledger; for now it runs the shared runtime: it migrates its own
/// database (outbox and inbox), declares the queues of the events the registry says it
/// consumes, and reports ready.
public enum PaymentService {
    /// The service's own migrations, applied after the shared ones.
    static let migrations: [Migration] = []

    public static func build(runtime: KindredRuntime, reader: inout EnvironmentReader) throws -> ServiceParts {
        ServiceParts(migrations: migrations)
    }
}
