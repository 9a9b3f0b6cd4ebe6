import Contracts
import Foundation
import Messaging
import Persistence
import Prometheus
import ServiceRuntime
import Testing

/// Builds a service's runtime against the real broker and database, as the service's own
/// broker user and database role, to check its start-up in-process.
public enum ServiceHarness {
    public static func runtime(for service: ServiceName) throws -> KindredRuntime {
        var reader = EnvironmentReader([
            "KINDRED_AMQP_URL": try TestEnvironment.amqpURL(of: service.rawValue),
            "KINDRED_DATABASE_URL": try TestEnvironment.databaseURL(of: service.rawValue),
            "KINDRED_DB_POOL_SIZE": "2",
        ])
        let configuration = ServiceConfiguration(service: service, reader: &reader)
        try reader.validate()
        return KindredRuntime(
            configuration: configuration, logger: TestEnvironment.logger(service.rawValue),
            metrics: PrometheusCollectorRegistry())
    }

    /// Builds the service's parts as `ServiceHost.main` does (with `environment` for what
    /// its build reads) and checks the start-up check passes: its handlers take exactly the
    /// event types the registry says it consumes, each once.
    public static func expectHandlersMatchRegistry(
        _ service: ServiceName, environment: [String: String] = [:],
        build: (KindredRuntime, inout EnvironmentReader) throws -> ServiceParts
    ) throws {
        let runtime = try runtime(for: service)
        defer { runtime.close() }
        var reader = EnvironmentReader(environment)
        let parts = try build(runtime, &reader)
        try reader.validate()
        #expect(parts.handlerProblems(for: service) == [])
        #expect(Set(parts.handledTypes) == Set(EventRegistry.consumed(by: service).map(\.type)))
        #expect(parts.handledTypes.count == EventRegistry.consumed(by: service).count)
    }

    /// Builds the service, runs its start-up (topology, shared and own migrations) and
    /// checks what every service must have: it reports ready, its database has the shared
    /// tables and its own, its queues exist, and its role cannot open another service's
    /// database.
    public static func expectStartsAndIsReady(
        _ service: ServiceName, ownTables: [String] = [], environment: [String: String] = [:],
        build: (KindredRuntime, inout EnvironmentReader) throws -> ServiceParts
    ) async throws {
        let runtime = try runtime(for: service)
        defer { runtime.close() }
        var reader = EnvironmentReader(environment)
        let parts = try build(runtime, &reader)
        try reader.validate()
        #expect(parts.handlerProblems(for: service) == [], "\(service) would refuse to start")
        try await ServiceHost.prepare(runtime, migrations: parts.migrations)
        let ready = try await eventually { await runtime.readiness.problems().isEmpty }
        let problems = await runtime.readiness.problems()
        #expect(ready, "\(service) is not ready: \(problems)")

        let tables = try await runtime.pool.withConnection { connection in
            Set(
                try connection.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                ).rows.compactMap { $0.string("table_name") })
        }
        for table in ["outbox", "inbox", "schema_migrations"] + ownTables {
            #expect(tables.contains(table), "\(service) has no table \(table)")
        }

        for descriptor in EventRegistry.consumed(by: service) {
            let queue = EventRegistry.queueName(for: descriptor.type, consumer: service)
            #expect(try await runtime.consumerConnection.status(ofQueue: queue) != nil, "queue \(queue) missing")
        }

        let other: ServiceName = service == .gateway ? .profile : .gateway
        let ownURL = try TestEnvironment.databaseURL(of: service.rawValue)
        let foreignURL = ownURL.replacingOccurrences(
            of: "dbname=kindred_\(service.rawValue)", with: "dbname=kindred_\(other.rawValue)")
        let foreign = DatabasePool(connectionString: foreignURL, size: 1, logger: TestEnvironment.logger("foreign"))
        do {
            _ = try await foreign.withConnection { try $0.execute("SELECT 1") }
            Issue.record("role kindred_\(service.rawValue) could open database kindred_\(other.rawValue)")
        } catch let error as DatabaseError {
            #expect(error.message.contains("permission denied"), "unexpected error: \(error)")
        }
    }
}
