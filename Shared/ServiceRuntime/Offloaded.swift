import Dispatch

/// Runs CPU-heavy work (bcrypt, decoding a photo) on a Dispatch thread: the services' event
/// loops also run their tasks, and must not be held by it.
public func offloaded<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}
