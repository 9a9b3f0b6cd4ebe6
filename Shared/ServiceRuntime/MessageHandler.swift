import Contracts
import Messaging

/// What `ServiceParts(handlers:)` holds: a handler of one consumed event type. Conform to
/// `EventHandler` or `RequestHandler`, which provide both members.
public protocol MessageHandler: Sendable {
    /// The event type this handler consumes; the service refuses to start unless its
    /// handlers cover exactly the types the registry says it consumes, once each.
    static var handledType: EventType { get }
    /// The consumer of the service's queue for `handledType` that runs this handler.
    func consumer(on runtime: KindredRuntime) -> EventConsumer
}
