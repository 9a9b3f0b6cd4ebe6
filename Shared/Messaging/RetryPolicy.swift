import Contracts
import Foundation

/// Growing pauses while a dependency is away: 250 ms, doubling, at most 5 s.
public struct Backoff: Sendable {
    private var next = Duration.milliseconds(250)

    public init() {}

    /// Sleeps for the next pause (throws if the task is cancelled meanwhile).
    public mutating func pause() async throws {
        try await Task.sleep(for: next)
        next = min(next * 2, .seconds(5))
    }
}

/// How often and how late a failed message is tried again: after each delay in turn,
/// through the TTL queues `<queue>.retry.<delay>` (no broker plugin), then `.dead`.
public struct RetryPolicy: Sendable, Equatable {
    public var delays: [Duration]

    public init(delays: [Duration]) { self.delays = delays }

    /// 1 s, 10 s, 1 min, 10 min.
    public static let standard = RetryPolicy(delays: [.seconds(1), .seconds(10), .seconds(60), .seconds(600)])

    /// The retry queue for the n-th retry (1-based) of a message from `queue`.
    public func queueName(for queue: String, retry: Int) -> String {
        "\(queue).retry.\(Self.label(delays[retry - 1]))"
    }

    /// The retry queues of `queue`: each holds messages for its delay, then dead-letters
    /// them back to `queue` through the default exchange.
    public func queues(for queue: String, arguments: [String: HeaderValue]) -> [QueueDeclaration] {
        delays.indices.map { index in
            var retryArguments = arguments
            retryArguments["x-message-ttl"] = .int(delays[index].milliseconds)
            retryArguments["x-dead-letter-exchange"] = .string("")
            retryArguments["x-dead-letter-routing-key"] = .string(queue)
            return QueueDeclaration(name: queueName(for: queue, retry: index + 1), arguments: retryArguments)
        }
    }

    /// `250ms`, `1s`, `10s`, `1m`, `10m`, `2h`: short, and stable for the same delay.
    public static func label(_ delay: Duration) -> String {
        let milliseconds = delay.milliseconds
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }

    /// Parses `1s,10s,1m,10m` (units ms, s, m, h).
    public static func parse(_ text: String) -> RetryPolicy? {
        var delays: [Duration] = []
        for part in text.split(separator: ",") {
            let item = part.trimmingCharacters(in: .whitespaces)
            let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
            guard
                let (suffix, factor) = units.first(where: { unit in
                    item.hasSuffix(unit.0) && Int64(item.dropLast(unit.0.count)) != nil
                }), let value = Int64(item.dropLast(suffix.count)), value > 0
            else { return nil }
            delays.append(.milliseconds(value * factor))
        }
        return RetryPolicy(delays: delays)
    }
}
