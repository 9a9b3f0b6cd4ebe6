import Contracts
import Hummingbird
import Persistence
import ServiceLifecycle

/// What a service adds to the runtime: its migrations, the handlers of the events it
/// consumes, background work and HTTP routes.
public struct ServiceParts: Sendable {
    public var migrations: [Migration]
    /// One per event type the registry says the service consumes (`EventHandler`,
    /// `RequestHandler`); the runtime builds a consumer of its queue for each.
    public var handlers: [any MessageHandler]
    public var background: [any Service]
    /// The service's own rows that expire, deleted hourly with the outbox and inbox.
    public var expiring: [ExpiringRows]
    public var routes: @Sendable (Router<KindredRequestContext>) -> Void

    public init(
        migrations: [Migration], handlers: [any MessageHandler] = [], background: [any Service] = [],
        expiring: [ExpiringRows] = [], routes: @escaping @Sendable (Router<KindredRequestContext>) -> Void = { _ in }
    ) {
        self.migrations = migrations
        self.handlers = handlers
        self.background = background
        self.expiring = expiring
        self.routes = routes
    }

    /// The event types the handlers take, in registration order (a type twice if it has
    /// two handlers).
    public var handledTypes: [EventType] { handlers.map { type(of: $0).handledType } }

    /// Why `service` must not start with these handlers, one sentence per event type: a
    /// handled type the registry does not list it as consuming (its queue is not declared,
    /// so the handler would never run), a type the registry says it consumes without a
    /// handler (its queue would fill up unread), or a type with two handlers. Empty when
    /// the handlers match the registry.
    public func handlerProblems(for service: ServiceName) -> [String] {
        let handled = handledTypes
        let consumed = Set(EventRegistry.consumed(by: service).map(\.type))
        let name = service.rawValue
        let counts = Dictionary(handled.map { ($0, 1) }, uniquingKeysWith: +)
        var problems: [String] = []
        for (eventType, count) in counts where count > 1 {
            problems.append("\(eventType) has \(count) handlers in ServiceParts(handlers:); \(name) needs exactly one")
        }
        for eventType in Set(handled).subtracting(consumed) {
            problems.append(
                "\(name) has a handler for \(eventType), but the registry (Shared/Contracts/Registry.swift) does not "
                    + "list \(name) as a consumer of it")
        }
        for eventType in consumed.subtracting(handled) {
            problems.append(
                "the registry (Shared/Contracts/Registry.swift) lists \(name) as a consumer of \(eventType), but "
                    + "ServiceParts(handlers:) has no handler for it")
        }
        return problems.sorted()
    }

    /// The start-up check (`ServiceHost.main` runs it before anything starts): throws, and
    /// the service exits with status 2, unless the handlers match the registry.
    public func checkHandlers(for service: ServiceName) throws(ConfigurationError) {
        let problems = handlerProblems(for: service)
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }
}
