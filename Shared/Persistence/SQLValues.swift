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
    public var sqlText: String? {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(self)
    }
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
        var iso = text.replacingOccurrences(of: " ", with: "T")
        if iso.hasSuffix("+00") { iso = String(iso.dropLast(3)) + "Z" }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(iso) {
            return date
        }
        return try? Date.ISO8601FormatStyle().parse(iso)
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
