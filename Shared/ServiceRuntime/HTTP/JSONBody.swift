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

    private init(object: [String: Any]) { self.object = object }

    package mutating func string(_ key: String) -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            errors.append(FieldError(field: key, message: "must be a string"))
            return nil
        }
        guard !text.utf8.contains(0) else {
            errors.append(FieldError(field: key, message: "must not contain NUL characters (\\u0000)"))
            return nil
        }
        return text
    }

    package mutating func strings(_ key: String) -> [String]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let list = value as? [Any], let texts = list as? [String] else {
            errors.append(FieldError(field: key, message: "must be a list of strings"))
            return nil
        }
        guard !texts.contains(where: { $0.utf8.contains(0) }) else {
            errors.append(FieldError(field: key, message: "must not contain NUL characters (\\u0000)"))
            return nil
        }
        return texts
    }
}
