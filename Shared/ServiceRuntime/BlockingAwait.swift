import Dispatch
import Synchronization

/// Waits for async work from a thread that is not part of Swift's cooperative pool.
enum BlockingAwait {
    /// The outcomes of a batch of publishes.
    static func run(_ work: @escaping @Sendable () async -> [Result<Void, any Error>]) -> [Result<Void, any Error>] {
        let box = Mutex<[Result<Void, any Error>]>([])
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            let outcomes = await work()
            box.withLock { $0 = outcomes }
            semaphore.signal()
        }
        semaphore.wait()
        return box.withLock { $0 }
    }
}
