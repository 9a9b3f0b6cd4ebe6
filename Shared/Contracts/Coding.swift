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

/// RFC 3339 timestamps as CloudEvents writes them: UTC, milliseconds (rounded down).
///
/// Every envelope writes and reads one, so the common case is done byte by byte: times
/// from 2004 to 9999, read in the form this writes (`Z`, up to six fractional digits).
/// The results are the ones Foundation's ISO 8601 format style gives (`TimestampTests`
/// compares them on 200,000 random times and texts); anything else goes to the format
/// style.
public enum Timestamp {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()
    /// The seconds from 1970 to 2001, Foundation's reference date.
    private static let referenceOffset: Int64 = 978_307_200
    /// Byte by byte only this far from the reference date (2004-03 on, before 1997-10)
    /// and before the year 10000: closer to 2001 a double holds more fractional digits
    /// than the format style's arithmetic keeps, so the last bit could differ.
    private static let fastRange: ClosedRange<Double> = 100_000_000...(253_402_300_800 - 978_307_200 - 1)

    public static func format(_ date: Date) -> String {
        let reference = date.timeIntervalSinceReferenceDate
        guard fastRange.contains(reference) else { return withFraction.format(date) }
        let whole = reference.rounded(.down)
        let milliseconds = Int(((reference - whole) * 1000).rounded(.down))
        // Positive in the fast range, so plain division rounds down.
        let seconds = Int64(whole) + referenceOffset
        let (year, month, day) = civil(fromDays: seconds / 86_400)
        let ofDay = Int(seconds % 86_400)
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int, digits: Int, at offset: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(year, digits: 4, at: 0)
        bytes[4] = UInt8(ascii: "-")
        put(month, digits: 2, at: 5)
        bytes[7] = UInt8(ascii: "-")
        put(day, digits: 2, at: 8)
        bytes[10] = UInt8(ascii: "T")
        put(ofDay / 3600, digits: 2, at: 11)
        bytes[13] = UInt8(ascii: ":")
        put(ofDay / 60 % 60, digits: 2, at: 14)
        bytes[16] = UInt8(ascii: ":")
        put(ofDay % 60, digits: 2, at: 17)
        bytes[19] = UInt8(ascii: ".")
        put(milliseconds, digits: 3, at: 20)
        bytes[23] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func parse(_ text: String) -> Date? {
        if let date = parseCommon(text) { return date }
        return (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z` with every field in range, in the fast range; nil
    /// for anything else.
    static func parseCommon(_ text: String) -> Date? {
        let parsed: Date?? = text.utf8.withContiguousStorageIfAvailable { bytes -> Date? in
            guard bytes.count >= 20, bytes.count <= 27, bytes[bytes.count - 1] == UInt8(ascii: "Z") else {
                return nil
            }
            func number(_ offset: Int, _ digits: Int) -> Int? {
                var value = 0
                for index in offset..<(offset + digits) {
                    let byte = bytes[index]
                    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                }
                return value
            }
            guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
                bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
                let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
                let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
                (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23,
                minute <= 59, second <= 59
            else { return nil }
            var fraction = 0.0
            if bytes.count > 20 {
                let digits = bytes.count - 21
                guard bytes[19] == UInt8(ascii: "."), digits >= 1, let value = number(20, digits) else { return nil }
                var scale = 1.0
                for _ in 0..<digits { scale *= 10 }
                fraction = Double(value) / scale
            }
            let days = Self.days(fromCivil: year, month, day)
            let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - referenceOffset
            let reference = Double(seconds) + fraction
            guard fastRange.contains(reference) else { return nil }
            return Date(timeIntervalSinceReferenceDate: reference)
        }
        return parsed ?? nil
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day since 1970-01-01 (the inverse of `days`).
    private static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shifted + 2) / 5 + 1)
        let month = Int(shifted < 10 ? shifted + 3 : shifted - 9)
        let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
