import Contracts
import Messaging
import Persistence

/// Handles one consumed event type. The runtime claims each message in the inbox, runs
/// `handle` in the same transaction, wakes the outbox relay after the commit, then calls
/// `committed`, and acknowledges last. A message this queue already processed is
/// acknowledged without calling either: a redelivery is a no-op.
///
/// A handler that throws rolls its transaction back; the message is tried again later
/// (`KINDRED_RETRY_DELAYS`), or in place while the database is away.
public protocol EventHandler: MessageHandler {
    associatedtype Handled: Event
    /// Runs inside the transaction that claims the message in the inbox; what it appends to
    /// the outbox (`Outbox.append`) commits with it.
    func handle(_ envelope: Envelope<Handled>, context: MessageContext, database: DatabaseConnection) throws
    /// After the commit: effects outside the database (closing live streams). Default: nothing.
    func committed(_ envelope: Envelope<Handled>, context: MessageContext) async
}

extension EventHandler {
    public static var handledType: EventType { Handled.eventType }

    public func committed(_ envelope: Envelope<Handled>, context: MessageContext) async {}

    public func consumer(on runtime: KindredRuntime) -> EventConsumer {
        let runner = runtime.handlerRunner
        return runtime.consumer(of: Handled.self) { envelope, context in
            _ = try await runner.run(self, envelope, context: context)
        }
    }
}
