import Foundation

/// The one JSON configuration every service uses for envelopes and HTTP bodies:
/// camelCase keys as declared, RFC 3339 times with milliseconds in UTC, sorted keys so
/// that documents are stable (golden tests, hashes, idempotency comparisons).
public enum KindredJSON {
    /// Shared by every caller: a configured JSONEncoder/JSONDecoder may be used from many
    /// tasks at once, and making one per envelope or response is measurable work.
    public static let sharedEncoder = encoder()
    public static let sharedDecoder = decoder()

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }
}

extension Duration {
    /// Whole milliseconds (rounded down), as AMQP TTLs, poll(2) and logs take them.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

/// RFC 3339 timestamps as CloudEvents writes them.
public enum Timestamp {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    public static func format(_ date: Date) -> String { withFraction.format(date) }

    public static func parse(_ text: String) -> Date? {
        (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
    }
}
