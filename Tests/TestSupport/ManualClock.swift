import Foundation
import Synchronization

/// A clock the test moves by hand; nothing sleeps for time to pass. `read` is the closure
/// a handler or limiter takes as its clock.
public final class ManualClock: Sendable {
    private let time: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_795_348_800)) { time = Mutex(start) }

    public var now: Date { time.withLock { $0 } }
    public var read: @Sendable () -> Date { { [self] in now } }

    public func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
