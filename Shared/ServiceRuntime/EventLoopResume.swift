import Messaging
import NIOCore
import NIOPosix

extension KindredRuntime {
    /// Where a caller on one of SwiftNIO's event loops is to be resumed after a request:
    /// on that same loop (nil off a loop). Tasks run on the loops (`ServiceHost.main`), and
    /// one resumed from the AMQP owner thread would otherwise land on any loop, so that an
    /// HTTP handler would write its answer from a loop its connection is not on: one more
    /// hand-off per request.
    public static let resumeOnCurrentEventLoop: @Sendable () -> AMQPConnection.ResumeScheduler? = {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        return { job in loop.execute(job) }
    }
}
