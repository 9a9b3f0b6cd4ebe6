import Contracts
import Foundation

/// A named JSON Schema of an OpenAPI document's `components`, inferred from the Codable
/// type that is encoded (a response) or whose fields are read (a request body), with the
/// contracts' inference (`DataSchema.infer`): field names, JSON types, `uuid` and
/// `date-time` formats, which fields are required. Every object is closed
/// (`additionalProperties: false`): the type encodes exactly its fields, and a request
/// body read with `JSONBody` refuses any other.
///
/// Inferred once, when the component is made; a type the inference cannot read keeps the
/// reason, and the document that uses it fails to build (a test builds it).
package struct SchemaComponent: Sendable, Equatable {
    /// The key under `#/components/schemas/`.
    package let name: String
    private let schema: DataSchema?
    private let failure: String?
    private let rules: [String: FieldRules]
    /// The names of the object's properties: for a request body, the fields it accepts
    /// (read on every request, so found once here). Empty if the schema could not be inferred.
    package let propertyNames: Set<String>

    /// The schema of `type`, with `fields` adding what the type cannot say (limits, value
    /// sets, descriptions) to the fields they name.
    package init<T: Decodable>(inferring type: T.Type, name: String, fields: [String: FieldRules] = [:]) {
        self.name = name
        self.rules = fields
        do {
            let inferred = try DataSchema.infer(type)
            let unknown = Set(fields.keys).subtracting(Self.propertyNames(of: inferred)).sorted()
            if unknown.isEmpty {
                schema = inferred
                failure = nil
            } else {
                schema = nil
                failure = "\(name) (\(T.self)) has no field \(unknown.joined(separator: ", ")) to give rules to"
            }
        } catch {
            schema = nil
            failure = "\(name): \(error)"
        }
        propertyNames = schema.map(Self.propertyNames(of:)) ?? []
    }

    /// The JSON Schema as the document writes it.
    package func jsonSchema() throws -> [String: Any] {
        guard let schema else { throw DataSchemaError(failure ?? "\(name) has no schema") }
        var object = schema.closedJSONObject
        guard !rules.isEmpty, var properties = object["properties"] as? [String: Any] else { return object }
        for (field, rule) in rules {
            guard var property = properties[field] as? [String: Any] else { continue }
            rule.apply(to: &property)
            properties[field] = property
        }
        object["properties"] = properties
        return object
    }

    /// `{"$ref": "#/components/schemas/<name>"}`.
    var reference: [String: Any] { ["$ref": "#/components/schemas/\(name)"] }

    private static func propertyNames(of schema: DataSchema) -> Set<String> {
        guard case .object(let properties, _) = schema else { return [] }
        return Set(properties.keys)
    }
}

/// What a Swift type cannot say about one of its fields: the rules a server enforces beyond
/// the JSON type, and a description. Documentation only: the code that reads the field
/// enforces them.
package struct FieldRules: Sendable, Equatable {
    package var description: String?
    /// A `format` more precise than the type's (`email`, `date`, `uri`).
    package var format: String?
    /// The closed set of values (`enum`); for an array, of its items.
    package var values: [String]?
    package var minLength: Int?
    package var maxLength: Int?
    package var minItems: Int?
    package var uniqueItems: Bool?
    package var maxItems: Int?
    /// For a number: its bounds.
    package var minimum: Double?
    package var maximum: Double?

    package init(
        description: String? = nil, format: String? = nil, values: [String]? = nil, minLength: Int? = nil,
        maxLength: Int? = nil, minItems: Int? = nil, maxItems: Int? = nil, uniqueItems: Bool? = nil,
        minimum: Double? = nil, maximum: Double? = nil
    ) {
        self.description = description
        self.format = format
        self.values = values
        self.minLength = minLength
        self.maxLength = maxLength
        self.minItems = minItems
        self.maxItems = maxItems
        self.uniqueItems = uniqueItems
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Bounds of a whole number.
    package init(description: String? = nil, minimum: Int, maximum: Int) {
        self.init(description: description, minimum: Double(minimum), maximum: Double(maximum))
    }

    func apply(to property: inout [String: Any]) {
        if let description { property["description"] = description }
        if let format { property["format"] = format }
        if let values {
            if property["type"] as? String == "array", var items = property["items"] as? [String: Any] {
                items["enum"] = values
                property["items"] = items
            } else {
                property["enum"] = values
            }
        }
        if let minLength { property["minLength"] = minLength }
        if let maxLength { property["maxLength"] = maxLength }
        if let minItems { property["minItems"] = minItems }
        if let maxItems { property["maxItems"] = maxItems }
        if let uniqueItems { property["uniqueItems"] = uniqueItems }
        if let minimum { property["minimum"] = minimum == minimum.rounded() ? Int(minimum) as Any : minimum }
        if let maximum { property["maximum"] = maximum == maximum.rounded() ? Int(maximum) as Any : maximum }
    }
}
