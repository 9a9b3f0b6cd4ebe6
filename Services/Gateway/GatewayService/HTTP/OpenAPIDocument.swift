import Contracts
import Foundation
import Hummingbird
import ServiceRuntime

/// The OpenAPI 3.1 document of the gateway, served at `/openapi.json`: generated from the
/// route table that also builds the router (`GatewayAPI`), each body's schema inferred from
/// its Swift type. Tests compare its paths and methods with the router's, both ways, and
/// each documented response schema with a real response.
enum OpenAPIDocument {
    static let info = OpenAPIInfo(
        title: "Kindred API", version: "1",
        description: "The gateway of the Kindred dating backend. Every error is RFC 9457 problem+json.",
        servers: ["http://127.0.0.1:8080"], bearerFormat: "JWT")

    /// Built once. A table the document cannot be built from (a body type the schema
    /// inference cannot read) keeps its error: `/openapi.json` then fails (500, the reason in
    /// the log) rather than stop the gateway, and the OpenAPI tests fail with the reason.
    private static let built: Result<[UInt8], any Error> = Result {
        try GatewayAPI.table.openAPIJSON(OpenAPIDocument.info)
    }

    /// The document as served.
    static func bytes() throws -> [UInt8] { try built.get() }

    /// The answer of `GET /openapi.json`.
    static func answer() throws -> Answer {
        Answer(status: .ok, contentType: Answer.jsonContentType, body: try bytes())
    }

    /// Every (method, path) the served document describes, as `GET /v1/profile/me`.
    static func operations() throws -> Set<String> {
        let document = try JSONSerialization.jsonObject(with: Data(try bytes())) as? [String: Any]
        guard let paths = document?["paths"] as? [String: [String: Any]] else { return [] }
        return Set(paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } })
    }
}
