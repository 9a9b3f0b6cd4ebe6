import Contracts
import Foundation
import Hummingbird

/// What an OpenAPI document says about the server, besides its routes.
package struct OpenAPIInfo: Sendable {
    package var title: String
    package var version: String
    package var description: String
    package var servers: [String]
    /// The `bearerFormat` of the bearer scheme (`JWT`), when a route needs a bearer token.
    package var bearerFormat: String?

    package init(title: String, version: String, description: String, servers: [String], bearerFormat: String? = nil) {
        self.title = title
        self.version = version
        self.description = description
        self.servers = servers
        self.bearerFormat = bearerFormat
    }
}

extension RouteTable {
    /// The OpenAPI 3.1 document of every route in the table, with a component schema per
    /// body type. Throws if a type's schema could not be inferred, two components share a
    /// name, or a method and path are listed twice.
    package func openAPIDocument(_ info: OpenAPIInfo) throws -> [String: Any] {
        var components = OpenAPIComponents()
        var paths: [String: [String: Any]] = [:]
        for route in routes {
            let method = route.method.rawValue.lowercased()
            guard paths[route.path]?[method] == nil else {
                throw RouteTableError(description: "\(route.name) is listed twice in the route table")
            }
            paths[route.path, default: [:]][method] = try operation(of: route, components: &components)
        }
        var componentsObject: [String: Any] = ["schemas": try components.jsonObject()]
        if routes.contains(where: { $0.security == .bearer }) {
            var scheme: [String: Any] = ["type": "http", "scheme": "bearer"]
            if let format = info.bearerFormat { scheme["bearerFormat"] = format }
            componentsObject["securitySchemes"] = ["bearer": scheme]
        }
        let infoObject: [String: Any] = [
            "title": info.title, "version": info.version, "description": info.description,
        ]
        return [
            "openapi": "3.1.0",
            "info": infoObject,
            "servers": info.servers.map { ["url": $0] },
            "paths": paths,
            "components": componentsObject,
        ]
    }

    /// The document as served: JSON with sorted keys, stable byte for byte.
    package func openAPIJSON(_ info: OpenAPIInfo) throws -> [UInt8] {
        let data = try JSONSerialization.data(
            withJSONObject: try openAPIDocument(info), options: [.sortedKeys, .withoutEscapingSlashes])
        return Array(data)
    }

    private func operation(of route: Route, components: inout OpenAPIComponents) throws -> [String: Any] {
        var responses: [String: Any] = [:]
        for response in route.documentedResponses {
            responses[String(response.status.code)] = try response.jsonObject(components: &components)
        }
        var operation: [String: Any] = ["summary": route.summary, "tags": [route.tag], "responses": responses]
        if route.security == .bearer { operation["security"] = [["bearer": [String]()]] }
        if !route.parameters.isEmpty { operation["parameters"] = route.parameters.map(\.jsonObject) }
        if let body = route.body {
            let media: [String: Any] = ["schema": try components.reference(to: body)]
            let requestBody: [String: Any] = ["required": true, "content": [Answer.jsonContentType: media]]
            operation["requestBody"] = requestBody
        }
        if let upload = route.upload { operation["requestBody"] = upload.requestBody }
        return operation
    }
}

/// Why a route table has no document.
package struct RouteTableError: Error, CustomStringConvertible {
    package let description: String
}

/// The component schemas a document refers to, each once by name.
private struct OpenAPIComponents {
    private var schemas: [String: SchemaComponent] = [:]

    /// `{"$ref": …}` to `component`, which the document then holds.
    mutating func reference(to component: SchemaComponent) throws -> [String: Any] {
        if let known = schemas[component.name], known != component {
            throw RouteTableError(description: "two different schemas are named \(component.name)")
        }
        schemas[component.name] = component
        return component.reference
    }

    func jsonObject() throws -> [String: Any] {
        var object: [String: Any] = [:]
        for (name, component) in schemas { object[name] = try component.jsonSchema() }
        return object
    }
}

extension RouteResponse {
    fileprivate func jsonObject(components: inout OpenAPIComponents) throws -> [String: Any] {
        var text = description
        if !problemTypes.isEmpty {
            text += " Problem types: \(problemTypes.map { "`\($0)`" }.joined(separator: ", "))."
        }
        var object: [String: Any] = ["description": text]
        switch content {
        case .described:
            break
        case .json(let schema):
            let media: [String: Any] = ["schema": try components.reference(to: schema)]
            object["content"] = [Answer.jsonContentType: media]
        case .problem:
            let media: [String: Any] = ["schema": try components.reference(to: .problem)]
            object["content"] = [Answer.problemContentType: media]
        case .eventStream:
            let media: [String: Any] = ["schema": ["type": "string"]]
            object["content"] = ["text/event-stream": media]
        }
        if !headers.isEmpty {
            var described: [String: Any] = [:]
            for header in headers { described[header] = ["schema": ["type": "string"]] }
            object["headers"] = described
        }
        return object
    }
}

extension RouteUpload {
    /// The bytes as they are, in each media type, or the form with its one file part.
    fileprivate var requestBody: [String: Any] {
        let description = "At most \(maxBytes) bytes; the type is told from the bytes, not from this header."
        let bytes: [String: Any] = ["type": "string", "contentMediaType": "application/octet-stream"]
        var content: [String: Any] = [:]
        for type in mediaTypes { content[type] = ["schema": bytes] }
        let form: [String: Any] = [
            "type": "object", "required": [formField], "properties": [formField: bytes],
        ]
        content["multipart/form-data"] = ["schema": form]
        return ["required": true, "description": description, "content": content]
    }
}

extension RouteParameter {
    fileprivate var jsonObject: [String: Any] {
        var schema: [String: Any] = ["type": "string"]
        if let format { schema["format"] = format }
        if let maxLength { schema["maxLength"] = maxLength }
        var object: [String: Any] = ["name": name, "in": location.rawValue, "required": required, "schema": schema]
        if let description { object["description"] = description }
        return object
    }
}

extension SchemaComponent {
    /// The schema of every problem document (`Problem`), inferred like any other body.
    package static let problem = SchemaComponent(
        inferring: Problem.self, name: "Problem",
        fields: ["type": FieldRules(description: "\(Problem.typePrefix)<name>", format: "uri")])
}
