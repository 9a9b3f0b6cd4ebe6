import Contracts
import Foundation
import Logging
import Synchronization

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
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        fields["time"] = Timestamp.format(Date())
        fields["level"] = event.level.rawValue
        fields["logger"] = label
        fields["message"] = "\(event.message)"
        let line: String
        if let data = try? JSONSerialization.data(
            withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
        {
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = "{\"message\":\"unencodable log line\"}"
        }
        StandardErrorWriter.shared.write(line + "\n")
    }
}

/// Serialises writes so concurrent log lines never interleave.
final class StandardErrorWriter: Sendable {
    static let shared = StandardErrorWriter()
    private let lock = Mutex(())

    func write(_ text: String) {
        lock.withLock { _ in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}
