import ServiceLifecycle

/// What runs a service's background loop (the outbox relay, media's processing worker):
/// woken after this process commits work for it, and polling for what other instances
/// left behind. Wakes that come while a pass runs fold into one more pass.
public final class WakeSignal: Sendable {
    private let wakeups: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (wakeups, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a pass now.
    public func wake() { continuation.yield() }

    /// Runs `pass` at each wake and at least every `interval` until the service is shut
    /// down gracefully, then `afterShutdown` once. Call it once: the wakes are one stream.
    public func run(
        polling interval: Duration, _ pass: @escaping @Sendable () async -> Void,
        afterShutdown: @escaping @Sendable () async -> Void = {}
    ) async {
        let (wakeups, continuation) = (self.wakeups, self.continuation)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    continuation.yield()
                }
            }
            group.addTask {
                for await _ in wakeups.cancelOnGracefulShutdown() { await pass() }
                await afterShutdown()
            }
            await group.next()
            group.cancelAll()
        }
    }
}
