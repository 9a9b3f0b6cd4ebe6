import Foundation

/// A value sent to PostgreSQL as a text-format query parameter. Parameters are always
/// sent separately from the SQL (`PQexecParams`), never spliced into it.
public protocol SQLParameter: Sendable {
    /// The PostgreSQL text representation, or `nil` for NULL.
    var sqlText: String? { get }
}

extension String: SQLParameter {
    public var sqlText: String? { self }
}
extension Int: SQLParameter {
    public var sqlText: String? { String(self) }
}
extension Int64: SQLParameter {
    public var sqlText: String? { String(self) }
}
extension Int32: SQLParameter {
    public var sqlText: String? { String(self) }
}
extension Bool: SQLParameter {
    public var sqlText: String? { self ? "true" : "false" }
}
extension UUID: SQLParameter {
    public var sqlText: String? { uuidString }
}
extension Date: SQLParameter {
    /// Microsecond precision, as PostgreSQL's `timestamptz` stores it.
    public var sqlText: String? { PostgresTime.format(self) }
}
extension Optional: SQLParameter where Wrapped: SQLParameter {
    public var sqlText: String? { self?.sqlText }
}
extension Array: SQLParameter where Element == String {
    /// A `text[]` literal.
    public var sqlText: String? {
        let quoted = map { element in
            "\""
                + element.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }
}

/// One row of a result, with typed accessors by column name.
public struct Row: Sendable {
    let columns: [String: Int]
    let values: [String?]

    public func string(_ column: String) -> String? {
        guard let index = columns[column] else { return nil }
        return values[index]
    }

    public func int64(_ column: String) -> Int64? { string(column).flatMap { Int64($0) } }
    public func int(_ column: String) -> Int? { string(column).flatMap { Int($0) } }
    public func bool(_ column: String) -> Bool? { string(column).map { $0 == "t" } }
    public func uuid(_ column: String) -> UUID? { string(column).flatMap { UUID(uuidString: $0) } }

    /// A `timestamptz` column; select it as `to_json(col)#>>'{}'` or rely on the ISO style
    /// that the pool sets for every session.
    public func date(_ column: String) -> Date? {
        guard let text = string(column) else { return nil }
        return PostgresTime.parse(text)
    }

    /// A `text[]` column.
    public func stringArray(_ column: String) -> [String]? {
        guard let text = string(column) else { return nil }
        return PostgresArray.parse(text)
    }
}

/// The rows a statement returned and how many it affected.
public struct QueryResult: Sendable {
    public let rows: [Row]
    public let affectedRows: Int

    public var first: Row? { rows.first }
}

enum PostgresTime {
    /// Parses PostgreSQL's ISO output (`2026-11-22 02:15:22.123456+00`), which the pool
    /// guarantees by setting `DateStyle=ISO` and `TimeZone=UTC` on every session.
    static func parse(_ text: String) -> Date? {
        if let date = parseUTC(text) { return date }
        var iso = text.replacingOccurrences(of: " ", with: "T")
        if iso.hasSuffix("+00") { iso = String(iso.dropLast(3)) + "Z" }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(iso) {
            return date
        }
        return try? Date.ISO8601FormatStyle().parse(iso)
    }
}

extension PostgresTime {
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, to the nearest microsecond (what `timestamptz` keeps).
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // A proleptic Gregorian date from days since 1970-01-01 (H. Hinnant's civil_from_days).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func digits(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(digits(year, 4))-\(digits(month, 2))-\(digits(day, 2))T\(digits(secondOfDay / 3600, 2)):"
            + "\(digits(secondOfDay / 60 % 60, 2)):\(digits(secondOfDay % 60, 2)).\(digits(fraction, 6))Z"
    }

    /// The common case read byte by byte: `YYYY-MM-DD HH:MM:SS[.f…]+00`, what every session
    /// prints (the general parser above costs more than the query it reads). Nil for anything
    /// else, which the general parser then reads.
    static func parseUTC(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        let count = bytes.count
        guard count >= 22, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[count - 3] == UInt8(ascii: "+"), bytes[count - 2] == UInt8(ascii: "0"),
            bytes[count - 1] == UInt8(ascii: "0")
        else { return nil }
        func number(_ start: Int, _ length: Int) -> Int64? {
            var value: Int64 = 0
            for index in start..<(start + length) {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        let fractionEnd = count - 3
        if fractionEnd > 19 {
            guard bytes[19] == UInt8(ascii: "."), fractionEnd > 20, fractionEnd - 20 <= 9,
                let digits = number(20, fractionEnd - 20)
            else { return nil }
            var scale = 1.0
            for _ in 20..<fractionEnd { scale *= 10 }
            fraction = Double(digits) / scale
        }
        // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}

enum PostgresArray {
    /// Parses a one-dimensional `text[]` in PostgreSQL's output syntax.
    static func parse(_ text: String) -> [String] {
        guard text.hasPrefix("{"), text.hasSuffix("}") else { return [] }
        let inner = text.dropFirst().dropLast()
        var elements: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        var wasQuoted = false
        for character in inner {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
                wasQuoted = true
            } else if character == ",", !inQuotes {
                elements.append(current)
                current = ""
                wasQuoted = false
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty || wasQuoted { elements.append(current) }
        return elements
    }
}
