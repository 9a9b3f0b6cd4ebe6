import Contracts
import Foundation
import Hummingbird
import Logging
import Messaging
import Metrics
import NIOCore
import NIOPosix
import Persistence
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The one entry point of every service executable.
public enum ServiceHost {
    /// Swift's tasks run on SwiftNIO's event loops instead of a second thread pool: an HTTP
    /// request's handler then runs on the loop its connection is on, and the hops between
    /// the two pools (a futex wake-up each, costly on these VMs) are gone; GET@1 went from
    /// 4.1 to 1.4 ms (scripts/bench). It is safe because nothing blocks a task: libpq runs
    /// on each connection's own dispatch queue, the AMQP owners on their own threads, log
    /// writes on the writer's queue, and BlockingAwait is only called from those threads.
    /// (A task waking from `Task.sleep` may still resume on Dispatch's pool; nothing
    /// depends on where a task runs.) Called first thing in a service's `main.swift`, on
    /// the main thread, before anything awaits, as SwiftNIO asks.
    public static func runTasksOnEventLoops() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// Reads the configuration (exiting with a clear message if it is wrong), bootstraps
    /// logging and metrics once, builds the service and runs it until SIGTERM or SIGINT.
    ///
    /// `build` may read more configuration with the reader; every problem is reported
    /// together before anything starts. Handlers that do not match the event types the
    /// registry says the service consumes stop it the same way (`ServiceParts.checkHandlers`).
    public static func main(
        _ service: ServiceName,
        build: @escaping (KindredRuntime, inout EnvironmentReader) throws -> ServiceParts
    ) async {
        var reader = EnvironmentReader()
        let configuration = ServiceConfiguration(service: service, reader: &reader)
        let level = Logger.Level(rawValue: configuration.logLevel.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JSONLineLogHandler(label: label, level: level)
            handler.metadata["service"] = "\(service.rawValue)"
            handler.metadata["instance"] = "\(configuration.instanceID)"
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "kindred.\(service.rawValue)")
        let runtime = KindredRuntime(configuration: configuration, logger: logger, metrics: registry)
        do {
            let parts = try build(runtime, &reader)
            try reader.validate()
            try parts.checkHandlers(for: service)
            try await run(runtime, parts)
            StandardErrorWriter.shared.flush()
        } catch let error as ConfigurationError {
            StandardErrorWriter.shared.flush()
            FileHandle.standardError.write(Data("kindred \(service.rawValue): \(error)\n".utf8))
            exit(2)
        } catch {
            logger.critical("service stopped", metadata: ["error": "\(error)"])
            // Log lines are written on their own queue: the last ones must be out before exit.
            StandardErrorWriter.shared.flush()
            exit(1)
        }
    }

    /// The public router of a service: metrics, `/health`, a bare `/ready`, then its own routes.
    public static func router(_ runtime: KindredRuntime, _ parts: ServiceParts) -> Router<KindredRequestContext> {
        let router = Router(context: KindredRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        OperationalRoutes.addProbes(to: router, readiness: runtime.readiness)
        parts.routes(router)
        return router
    }

    /// The admin router (`KINDRED_ADMIN_HTTP_PORT`, loopback by default): `/health`, the
    /// detailed `/ready` and `/metrics`, for operators and Prometheus, never for the ingress.
    public static func adminRouter(_ runtime: KindredRuntime) -> Router<KindredRequestContext> {
        let router = Router(context: KindredRequestContext.self)
        OperationalRoutes.addAdmin(to: router, readiness: runtime.readiness, metrics: runtime.metrics)
        return router
    }

    /// Runs a built service: start-up (topology, migrations), then the consumers of its
    /// handlers, background services and the outbox relay, and the HTTP server last;
    /// shutdown in reverse.
    public static func run(_ runtime: KindredRuntime, _ parts: ServiceParts) async throws {
        let router = router(runtime, parts)
        let configuration = runtime.configuration
        var services: [any Service] = [
            StartupStep(runtime: runtime, migrations: parts.migrations),
            GatedService(readiness: runtime.readiness, inner: runtime.relay),
        ]
        services += parts.handlers.map {
            ConsumerService(readiness: runtime.readiness, consumer: $0.consumer(on: runtime))
        }
        services += parts.background
        let janitor = RetentionJanitor(
            pool: runtime.pool,
            expiring: ExpiringRows.sharedTables(retention: .seconds(configuration.outboxRetentionHours * 3600))
                + parts.expiring,
            logger: runtime.logger)
        services.append(GatedService(readiness: runtime.readiness, inner: janitor))
        services.append(
            Application(
                router: adminRouter(runtime),
                configuration: .init(
                    address: .hostname(configuration.adminHTTPHost, port: configuration.adminHTTPPort),
                    serverName: nil),
                logger: runtime.logger))
        let app = Application(
            router: router, server: .http1(additionalChannelHandlers: [ExpectContinueHandler()]),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort)),
            services: services,
            logger: runtime.logger)
        runtime.logger.info(
            "starting",
            metadata: [
                "http": "\(configuration.httpHost):\(configuration.httpPort)",
                "admin_http": "\(configuration.adminHTTPHost):\(configuration.adminHTTPPort)",
                "amqp": "\(configuration.amqp)",
            ])
        defer { runtime.close() }
        // The application runs the services above in order and the HTTP server last; a
        // graceful stop goes in reverse, and whatever is still running when the deadline
        // passes is cancelled.
        var group = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger)
        group.maximumGracefulShutdownDuration = .seconds(configuration.shutdownSeconds)
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
        runtime.logger.info("stopped")
    }
}

extension ServiceHost {
    /// Declares the service's topology and applies the shared and the service's migrations,
    /// retrying while the database is away, then marks the runtime started.
    public static func prepare(_ runtime: KindredRuntime, migrations: [Migration]) async throws {
        let topology = Topology.forService(
            runtime.service, queueType: runtime.configuration.queueType,
            retryPolicy: runtime.configuration.retryPolicy)
        try await runtime.consumerConnection.declare(topology)
        let migrator = Migrator(pool: runtime.pool, logger: runtime.logger)
        var backoff = Backoff()
        while true {
            do {
                try await migrator.migrate(component: SharedMigrations.component, SharedMigrations.all)
                try await migrator.migrate(component: runtime.service.rawValue, migrations)
                break
            } catch  where KindredRuntime.isTransient(error) {
                runtime.logger.warning("database not reachable yet", metadata: ["error": "\(error)"])
                try await backoff.pause()
            }
        }
        runtime.readiness.markStarted()
    }
}

/// Declares the service's topology and applies its migrations (retrying while the broker
/// or the database is away), marks the service started, then stays until shutdown so the
/// group keeps its order.
struct StartupStep: Service {
    let runtime: KindredRuntime
    let migrations: [Migration]

    func run() async throws {
        try await ServiceHost.prepare(runtime, migrations: migrations)
        runtime.logger.info("ready")
        try await gracefulShutdown()
    }
}

/// Runs a service only once start-up is over.
struct GatedService: Service {
    let readiness: Readiness
    let inner: any Service

    func run() async throws {
        await readiness.waitUntilStarted()
        try await inner.run()
    }
}

/// Runs one consumer until graceful shutdown: it then stops taking messages and finishes
/// the ones it holds.
struct ConsumerService: Service {
    let readiness: Readiness
    let consumer: EventConsumer

    func run() async throws {
        await readiness.waitUntilStarted()
        try await cancelWhenGracefulShutdown {
            try await consumer.run()
        }
    }
}
