import Contracts
import Foundation
import Logging

/// One JSON object per line on stderr: time, level, service, message and metadata
/// (correlation id, event type, …). Nothing secret is ever put into metadata.
public struct JSONLineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Only the values are gathered here, on the caller's thread (often Swift's cooperative
        // pool); the JSON and the write happen on the writer's own queue.
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        fields["level"] = event.level.rawValue
        fields["logger"] = label
        fields["message"] = "\(event.message)"
        StandardErrorWriter.shared.write(fields, at: Date())
    }
}

/// Writes log lines to stderr in order, from one serial dispatch queue: a write that blocks
/// (a full pipe) never blocks a caller, nor a thread of the cooperative pool.
final class StandardErrorWriter: Sendable {
    static let shared = StandardErrorWriter()
    private let queue = DispatchQueue(label: "kindred.log-writer", qos: .utility)

    func write(_ fields: [String: String], at time: Date) {
        queue.async {
            var fields = fields
            fields["time"] = Timestamp.format(time)
            let line: String
            if let data = try? JSONSerialization.data(
                withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
            {
                line = String(decoding: data, as: UTF8.self)
            } else {
                line = "{\"message\":\"unencodable log line\"}"
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Waits until every line asked for so far is written (before the process exits).
    func flush() { queue.sync {} }
}
