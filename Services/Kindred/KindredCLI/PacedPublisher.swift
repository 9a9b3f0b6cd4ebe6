import Foundation
import Glibc
import Messaging

/// A one-line progress bar on standard error, drawn only when standard error is a
/// terminal (so scripts and `--json` output never see it), at most ten times a second.
final class ProgressBar {
    private let label: String
    private var total: Int
    private let limit: Int
    private let enabled = isatty(STDERR_FILENO) == 1
    private let started = ContinuousClock.now
    private var done = 0
    private var lastDrawn: ContinuousClock.Instant?

    /// `total` may grow (`expect`) up to `limit` as more work is found.
    init(_ label: String, total: Int, limit: Int = .max) {
        self.label = label
        self.limit = limit
        self.total = min(total, limit)
    }

    func expect(_ more: Int) { total = min(limit, total + more) }

    func advance(by count: Int) {
        done += count
        guard enabled, total > 0 else { return }
        let now = ContinuousClock.now
        if let lastDrawn, now - lastDrawn < .milliseconds(100), done < total { return }
        lastDrawn = now
        FileHandle.standardError.write(Data(line(now: now).utf8))
    }

    func finish() {
        guard enabled, lastDrawn != nil else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func line(now: ContinuousClock.Instant) -> String {
        let width = 30
        let filled = min(width, done * width / total)
        let seconds = (now - started) / .seconds(1)
        let rate = seconds > 0 ? Int(Double(done) / seconds) : 0
        return "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))]"
            + " \(done)/\(total)  \(rate)/s "
    }
}

/// Publishes messages in order with confirms: many in flight at once, or paced to at most
/// `rate` per second (in windows of a twentieth of a second's worth).
struct PacedPublisher {
    let broker: AMQPConnection
    let rate: Double?
    private var started = ContinuousClock.now
    private var sent = 0

    init(broker: AMQPConnection, rate: Double?) {
        self.broker = broker
        self.rate = rate
    }

    /// How many messages to hand over at a time.
    var window: Int {
        guard let rate else { return 500 }
        return max(1, min(500, Int(rate / 20)))
    }

    /// Waits until the pace allows the next window, then publishes it and waits for its
    /// confirms; returns each message's outcome, in order.
    mutating func publishEach(_ messages: [OutgoingMessage]) async throws -> [Result<Void, any Error>] {
        if let rate {
            let now = ContinuousClock.now
            var due = started + .milliseconds(Int64(Double(sent) / rate * 1000))
            // After a pause (between queues, say) the pace starts afresh instead of sending
            // the time lost as a burst above the rate.
            if now - due > .seconds(1) {
                started = now
                sent = 0
                due = now
            }
            if due > now { try await Task.sleep(until: due, clock: .continuous) }
        }
        let outcomes = await broker.publishEach(messages)
        sent += messages.count
        return outcomes
    }
}
