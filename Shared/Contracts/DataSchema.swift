import Foundation

/// The shape of an event's `data` as JSON Schema (the 2020-12 subset Kindred's events use):
/// enough to see what a change to a contract does to its consumers.
public indirect enum DataSchema: Equatable, Sendable {
    /// A string, with a `format` (`uuid`, `date-time`) when it has one.
    case string(format: String?)
    /// A string from a closed set of values.
    case enumeration([String])
    case integer
    case number
    case boolean
    case array(of: DataSchema)
    case object(properties: [String: DataSchema], required: Set<String>)

    static let dialect = "https://json-schema.org/draft/2020-12/schema"

    /// The schema as a JSON object.
    public var jsonObject: [String: Any] {
        switch self {
        case .string(let format):
            return format.map { ["type": "string", "format": $0] } ?? ["type": "string"]
        case .enumeration(let values): return ["type": "string", "enum": values]
        case .integer: return ["type": "integer"]
        case .number: return ["type": "number"]
        case .boolean: return ["type": "boolean"]
        case .array(let items): return ["type": "array", "items": items.jsonObject]
        case .object(let properties, let required):
            return [
                "type": "object", "properties": properties.mapValues(\.jsonObject), "required": required.sorted(),
            ]
        }
    }

    /// The schema as a JSON object whose objects admit only the properties they list
    /// (`additionalProperties: false`), for documents that describe a type's exact shape (an
    /// HTTP API's bodies). The contracts' snapshots (`jsonObject`) leave objects open, since a
    /// newer producer may add optional fields.
    public var closedJSONObject: [String: Any] {
        switch self {
        case .array(let items):
            return ["type": "array", "items": items.closedJSONObject]
        case .object(let properties, let required):
            return [
                "type": "object", "properties": properties.mapValues(\.closedJSONObject),
                "required": required.sorted(), "additionalProperties": false,
            ]
        case .string, .enumeration, .integer, .number, .boolean:
            return jsonObject
        }
    }

    /// Reads a schema written by `jsonObject` (a committed snapshot).
    public init(jsonObject: Any) throws {
        guard let object = jsonObject as? [String: Any], let type = object["type"] as? String else {
            throw DataSchemaError("a schema must be an object with a \"type\"")
        }
        switch type {
        case "string":
            if let values = object["enum"] as? [String] {
                self = .enumeration(values)
            } else {
                self = .string(format: object["format"] as? String)
            }
        case "integer": self = .integer
        case "number": self = .number
        case "boolean": self = .boolean
        case "array":
            guard let items = object["items"] else { throw DataSchemaError("an array schema needs \"items\"") }
            self = .array(of: try DataSchema(jsonObject: items))
        case "object":
            let properties = (object["properties"] as? [String: Any]) ?? [:]
            self = .object(
                properties: try properties.mapValues { try DataSchema(jsonObject: $0) },
                required: Set((object["required"] as? [String]) ?? []))
        default: throw DataSchemaError("unknown schema type \"\(type)\"")
        }
    }

    /// A short name of the kind of value, for messages.
    var summary: String {
        switch self {
        case .string(let format): return format.map { "string (\($0))" } ?? "string"
        case .enumeration(let values): return "one of \(values.joined(separator: "|"))"
        case .integer: return "integer"
        case .number: return "number"
        case .boolean: return "boolean"
        case .array(let items): return "array of \(items.summary)"
        case .object: return "object"
        }
    }

    /// What going from `old` to this schema breaks for a consumer or producer of `old`:
    /// a removed or retyped field, a new required field, a field that became required or
    /// optional, a changed set of values. Empty if the change is compatible.
    public func breakingChanges(from old: DataSchema, at path: String = "data") -> [String] {
        switch (old, self) {
        case (.object(let oldProperties, let oldRequired), .object(let newProperties, let newRequired)):
            var changes: [String] = []
            for name in Set(oldProperties.keys).union(newProperties.keys).sorted() {
                let field = "\(path).\(name)"
                switch (oldProperties[name], newProperties[name]) {
                case (.some, nil):
                    changes.append("\(field) was removed")
                case (nil, .some):
                    if newRequired.contains(name) { changes.append("\(field) is a new required field") }
                case (.some(let before), .some(let after)):
                    if oldRequired.contains(name) && !newRequired.contains(name) {
                        changes.append("\(field) is no longer required")
                    } else if !oldRequired.contains(name) && newRequired.contains(name) {
                        changes.append("\(field) became required")
                    }
                    changes += after.breakingChanges(from: before, at: field)
                case (nil, nil): break
                }
            }
            return changes
        case (.array(let before), .array(let after)):
            return after.breakingChanges(from: before, at: "\(path)[]")
        case (.enumeration(let before), .enumeration(let after)) where Set(before) == Set(after):
            return []  // The same values in another order.
        default:
            return old == self ? [] : ["\(path) changed from \(old.summary) to \(summary)"]
        }
    }

    /// Fields this schema has and `old` lacked (compatible additions when they are optional,
    /// which `breakingChanges` checks).
    public func additions(from old: DataSchema, at path: String = "data") -> [String] {
        switch (old, self) {
        case (.object(let oldProperties, _), .object(let newProperties, _)):
            return newProperties.keys.sorted().flatMap { name -> [String] in
                guard let after = newProperties[name] else { return [] }
                guard let before = oldProperties[name] else { return ["\(path).\(name)"] }
                return after.additions(from: before, at: "\(path).\(name)")
            }
        case (.array(let before), .array(let after)):
            return after.additions(from: before, at: "\(path)[]")
        default:
            return []
        }
    }

    /// Infers the schema of a `Decodable` type by decoding it once with a decoder that
    /// records which keys it asks for, and of which type.
    public static func infer<T: Decodable>(_ type: T.Type) throws -> DataSchema {
        try SchemaRecorder.record(type).schema
    }
}

public struct DataSchemaError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The snapshot document of one event type and version, as committed under
/// `Shared/Contracts/Schemas/<Type>.v<version>.json`.
public struct SchemaSnapshot: Equatable, Sendable {
    public var type: EventType
    public var dataVersion: Int
    public var schema: DataSchema

    public init(type: EventType, dataVersion: Int, schema: DataSchema) {
        self.type = type
        self.dataVersion = dataVersion
        self.schema = schema
    }

    public var fileName: String { "\(type.rawValue).v\(dataVersion).json" }

    /// The JSON Schema document, stable byte for byte (sorted keys, pretty printed).
    public func document() throws -> Data {
        var object = schema.jsonObject
        object["$schema"] = DataSchema.dialect
        object["title"] = type.rawValue
        object["x-kindred-dataversion"] = dataVersion
        var data = try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(contentsOf: Array("\n".utf8))
        return data
    }

    public init(document: Data) throws {
        guard let object = try JSONSerialization.jsonObject(with: document) as? [String: Any],
            let title = object["title"] as? String, let version = object["x-kindred-dataversion"] as? Int
        else {
            throw DataSchemaError("a snapshot needs \"title\" and \"x-kindred-dataversion\"")
        }
        self.init(type: EventType(rawValue: title), dataVersion: version, schema: try DataSchema(jsonObject: object))
    }
}

/// Lists the values of a `CaseIterable` enum with `String` raw values, and its first case.
private func enumerationValues<T: CaseIterable>(_ type: T.Type) -> (first: Any?, values: [String]) {
    let values = type.allCases.compactMap { ($0 as? any RawRepresentable)?.rawValue as? String }
    return (type.allCases.first, values)
}

/// Arrays, so that the recorder can name their elements' schema.
private protocol RecordableArray {
    static func recordEmpty() throws -> (value: Any, schema: DataSchema)
}

extension Array: RecordableArray where Element: Decodable {
    fileprivate static func recordEmpty() throws -> (value: Any, schema: DataSchema) {
        ([Element](), .array(of: try SchemaRecorder.record(Element.self).schema))
    }
}

/// Collections whose schema the recorder cannot see (a dictionary's keys come from the
/// data), refused so that a contract never holds a field whose changes go unnoticed.
private protocol UnsupportedInContracts {}
extension Dictionary: UnsupportedInContracts {}
extension Set: UnsupportedInContracts {}

/// Produces a value of each type it is asked for and notes the schema on the way.
private enum SchemaRecorder {
    static func record<T: Decodable>(_ type: T.Type) throws -> (value: T, schema: DataSchema) {
        let (value, schema) = try recordAny(type)
        guard let typed = value as? T else { throw DataSchemaError("cannot infer the schema of \(T.self)") }
        return (typed, schema)
    }

    private static func recordAny<T: Decodable>(_ type: T.Type) throws -> (value: Any, schema: DataSchema) {
        switch type {
        case is String.Type: return ("", .string(format: nil))
        case is UUID.Type: return (UUID(), .string(format: "uuid"))
        case is Date.Type: return (Date(), .string(format: "date-time"))
        case is URL.Type: return (URL(fileURLWithPath: "/"), .string(format: "uri"))
        case is Bool.Type: return (false, .boolean)
        case is Int.Type: return (0 as Int, .integer)
        case is Int64.Type: return (0 as Int64, .integer)
        case is Int8.Type: return (0 as Int8, .integer)
        case is Int16.Type: return (0 as Int16, .integer)
        case is Int32.Type: return (0 as Int32, .integer)
        case is UInt.Type: return (0 as UInt, .integer)
        case is UInt8.Type: return (0 as UInt8, .integer)
        case is UInt16.Type: return (0 as UInt16, .integer)
        case is UInt32.Type: return (0 as UInt32, .integer)
        case is UInt64.Type: return (0 as UInt64, .integer)
        case is Double.Type: return (0 as Double, .number)
        case is Float.Type: return (0 as Float, .number)
        default: break
        }
        if let enumeration = type as? any CaseIterable.Type {
            let (first, values) = enumerationValues(enumeration)
            guard let first, !values.isEmpty else {
                throw DataSchemaError("\(T.self) must be an enum with String raw values")
            }
            return (first, .enumeration(values))
        }
        if let array = type as? any RecordableArray.Type { return try array.recordEmpty() }
        if type is any UnsupportedInContracts.Type {
            throw DataSchemaError("\(T.self): dictionaries and sets are not supported in contracts (use a struct)")
        }
        let decoder = RecordingDecoder()
        do {
            let value = try T(from: decoder)
            return (value, decoder.storage.schema)
        } catch let error as DataSchemaError {
            throw error
        } catch {
            throw DataSchemaError(
                "cannot infer the schema of \(T.self) (\(error)); an enum in a contract must be CaseIterable")
        }
    }
}

private final class RecordingStorage {
    var properties: [String: DataSchema] = [:]
    var optional: Set<String> = []
    var required: Set<String> = []
    var single: DataSchema?

    var schema: DataSchema { single ?? .object(properties: properties, required: required) }
}

private struct RecordingDecoder: Decoder {
    let storage = RecordingStorage()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RecordingKeyedContainer<Key>(storage: storage))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DataSchemaError("a contract type cannot decode itself as an array")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        RecordingSingleValueContainer(storage: storage)
    }
}

private struct RecordingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let storage: RecordingStorage
    var codingPath: [any CodingKey] = []
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }

    /// `decodeIfPresent` asks this first, which is how an optional field shows itself.
    func decodeNil(forKey key: Key) throws -> Bool {
        storage.optional.insert(key.stringValue)
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try field(type, key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try field(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try field(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try field(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try field(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try field(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try field(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try field(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try field(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try field(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try field(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try field(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try field(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try field(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try field(type, key) }

    private func field<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        let (value, schema) = try SchemaRecorder.record(type)
        storage.properties[key.stringValue] = schema
        if !storage.optional.contains(key.stringValue) { storage.required.insert(key.stringValue) }
        return value
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw DataSchemaError("nested containers are not supported in contracts")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DataSchemaError("nested containers are not supported in contracts")
    }

    func superDecoder() throws -> any Decoder { throw DataSchemaError("superDecoder is not supported in contracts") }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        throw DataSchemaError("superDecoder is not supported in contracts")
    }
}

private struct RecordingSingleValueContainer: SingleValueDecodingContainer {
    let storage: RecordingStorage
    var codingPath: [any CodingKey] = []

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try value(type) }
    func decode(_ type: Bool.Type) throws -> Bool { try value(type) }
    func decode(_ type: String.Type) throws -> String { try value(type) }
    func decode(_ type: Double.Type) throws -> Double { try value(type) }
    func decode(_ type: Float.Type) throws -> Float { try value(type) }
    func decode(_ type: Int.Type) throws -> Int { try value(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try value(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try value(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try value(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try value(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try value(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try value(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try value(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try value(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try value(type) }

    private func value<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, schema) = try SchemaRecorder.record(type)
        storage.single = schema
        return value
    }
}
