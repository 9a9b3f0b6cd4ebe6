import Contracts
import Messaging
import NIOCore
import NIOPosix

extension KindredRuntime {
    /// The request client of a service that answers HTTP (the gateway; media's origin
    /// later): requests go out on the publishing connection, only the services the registry
    /// names may answer, and each caller is resumed on the event loop it asked from.
    public func requestReplyClient() -> RequestReplyClient {
        RequestReplyClient(
            publishing: publisherConnection, service: service, logger: logger,
            trustedRepliers: EventRegistry.trustedRepliers(to: service), resumeOn: Self.resumeOnCurrentEventLoop)
    }

    /// Where a caller on one of SwiftNIO's event loops is to be resumed after a request:
    /// on that same loop (nil off a loop). Tasks run on the loops
    /// (`ServiceHost.runTasksOnEventLoops`), and one resumed from the AMQP owner thread
    /// would otherwise land on any loop, so that an HTTP handler would write its answer
    /// from a loop its connection is not on: one more hand-off per request.
    private static let resumeOnCurrentEventLoop: @Sendable () -> AMQPConnection.ResumeScheduler? = {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        return { job in loop.execute(job) }
    }
}
