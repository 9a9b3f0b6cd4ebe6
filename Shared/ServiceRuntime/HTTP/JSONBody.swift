import Contracts
import Foundation
import Hummingbird

/// A JSON object body read field by field, so that every wrong field is named in one 422.
///
/// Rule: the body must be one JSON object; a field the route does not know is rejected
/// (so a typo never silently does nothing); `null` is the same as absent; text with a NUL
/// character is refused (C libraries such as libpq would cut it there).
///
/// Not `JSONDecoder`: it stops at the first wrong field, and ignores unknown ones.
package struct JSONBody {
    private let object: [String: Any]
    package private(set) var errors: [FieldError] = []

    /// Reads at most `limit` bytes (413 beyond) and parses them (400 if not a JSON object).
    package static func read(_ request: Request, limit: Int, allowed: Set<String>) async throws -> JSONBody {
        let buffer = try await request.body.collect(upTo: limit)
        let data = Data(buffer.readableBytesView)
        guard let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw Problem.malformedBody("the body must be a JSON object")
        }
        guard let object = parsed as? [String: Any] else {
            throw Problem.malformedBody("the body must be a JSON object, not \(type(of: parsed))")
        }
        var body = JSONBody(object: object)
        for key in object.keys.sorted() where !allowed.contains(key) {
            body.errors.append(FieldError(field: key, message: "is not a field of this request"))
        }
        return body
    }

    /// Reads a body whose fields are those of `schema`, the route's documented request body:
    /// what the document promises and what is accepted are one list.
    package static func read(_ request: Request, limit: Int, documentedBy schema: SchemaComponent) async throws
        -> JSONBody
    {
        try await read(request, limit: limit, allowed: schema.propertyNames)
    }

    private init(object: [String: Any], prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    /// Prefixed to the names of the fields of a nested object (`discovery.`).
    private var prefix = ""

    private mutating func fail(_ key: String, _ message: String) {
        errors.append(FieldError(field: prefix + key, message: message))
    }

    /// Names a field as wrong, for a rule the route checks itself.
    package mutating func reject(_ key: String, _ message: String) { fail(key, message) }

    /// Names each of these fields that is absent or `null` as required.
    package mutating func require(_ keys: String...) {
        for key in keys where object[key] == nil || object[key] is NSNull { fail(key, "is required") }
    }

    /// The fields sent as `null` (for `PATCH`, which clears them), sorted.
    package var nullFields: [String] { object.filter { $0.value is NSNull }.map(\.key).sorted() }

    /// A whole number (JSON number without fraction, within Int32); anything else is named.
    package mutating func integer(_ key: String) -> Int? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let exact = Self.wholeNumber(value) else {
            fail(key, "must be a whole number")
            return nil
        }
        return exact
    }

    /// A list of whole numbers.
    package mutating func integers(_ key: String) -> [Int]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let list = value as? [Any], case let numbers = list.compactMap(Self.wholeNumber),
            numbers.count == list.count
        else {
            fail(key, "must be a list of whole numbers")
            return nil
        }
        return numbers
    }

    /// A JSON number with no fraction that fits in Int32 (not a boolean, which
    /// JSONSerialization also gives as NSNumber).
    private static func wholeNumber(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !isBoolean(number), let exact = Int(exactly: number.doubleValue),
            (Int(Int32.min)...Int(Int32.max)).contains(exact)
        else { return nil }
        return exact
    }

    /// A number (latitude, longitude): finite; anything else is named.
    package mutating func number(_ key: String) -> Double? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number), number.doubleValue.isFinite else {
            fail(key, "must be a number")
            return nil
        }
        return number.doubleValue
    }

    package mutating func bool(_ key: String) -> Bool? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, Self.isBoolean(number) else {
            fail(key, "must be true or false")
            return nil
        }
        return number.boolValue
    }

    /// A nested object read the same way, its fields named `key.field`; its unknown fields
    /// (not in `allowed`) are named too. Its errors join this body's with `merge`.
    package mutating func object(_ key: String, allowed: Set<String>) -> JSONBody? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let nested = value as? [String: Any] else {
            fail(key, "must be an object")
            return nil
        }
        var body = JSONBody(object: nested, prefix: prefix + key + ".")
        for field in nested.keys.sorted() where !allowed.contains(field) {
            body.fail(field, "is not a field of this request")
        }
        return body
    }

    /// Takes a nested body's errors.
    package mutating func merge(_ nested: JSONBody) { errors += nested.errors }

    /// JSONSerialization gives `true` and `1` alike as NSNumber; a boolean's has the type `c`
    /// (a JSON number is an integer or a double, never a char).
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    package mutating func string(_ key: String) -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            fail(key, "must be a string")
            return nil
        }
        guard !text.utf8.contains(0) else {
            fail(key, "must not contain NUL characters (\\u0000)")
            return nil
        }
        return text
    }

    package mutating func strings(_ key: String) -> [String]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let list = value as? [Any], let texts = list as? [String] else {
            fail(key, "must be a list of strings")
            return nil
        }
        guard !texts.contains(where: { $0.utf8.contains(0) }) else {
            fail(key, "must not contain NUL characters (\\u0000)")
            return nil
        }
        return texts
    }
}
