import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import ServiceRuntime
import TestSupport
import Testing

@testable import GatewayService

@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("the document describes exactly the routes the gateway serves")
    func parity() async throws {
        let runtime = try ServiceHarness.runtime(for: .gateway)
        defer { runtime.close() }
        var reader = EnvironmentReader([
            "KINDRED_JWT_SECRET": try TestEnvironment.value("KINDRED_JWT_SECRET"), "KINDRED_BCRYPT_COST": "4",
        ])
        let parts = try GatewayService.build(runtime: runtime, reader: &reader)
        let router = ServiceHost.router(runtime, parts)
        let served = Set(
            router.routes.map { route in
                let path = "\(route.path)"
                return "\(route.method.rawValue) \(path.hasPrefix("/") ? path : "/" + path)"
            })
        let described = OpenAPIDocument.operations
        #expect(served.subtracting(described).isEmpty, "served but not described: \(served.subtracting(described))")
        #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served))")
        #expect(served.count >= 13)
    }

    @Test("the document is OpenAPI 3.1 JSON whose references all resolve")
    func references() throws {
        let text = String(decoding: OpenAPIDocument.bytes, as: UTF8.self)
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let references = text.components(separatedBy: "#/components/schemas/").dropFirst().map {
            String($0.prefix { $0 != "\"" })
        }
        #expect(!references.isEmpty)
        for reference in Set(references) {
            #expect(schemas[reference] != nil, "unresolved reference \(reference)")
        }
    }
}
