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
            "KINDRED_MEDIA_URL_KEYS": try TestEnvironment.value("KINDRED_MEDIA_URL_KEYS"),
        ])
        let parts = try GatewayService.build(runtime: runtime, reader: &reader)
        let router = ServiceHost.router(runtime, parts)
        let served = Set(
            router.routes.map { route in
                let path = "\(route.path)"
                return "\(route.method.rawValue) \(path.hasPrefix("/") ? path : "/" + path)"
            })
        let described = try OpenAPIDocument.operations()
        #expect(served.subtracting(described).isEmpty, "served but not described: \(served.subtracting(described))")
        #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served))")
        #expect(served.count >= 13)
    }

    @Test("the document is OpenAPI 3.1 JSON whose references all resolve")
    func references() throws {
        // Builds the document again, so that a type whose schema cannot be inferred fails here
        // with the reason.
        _ = try GatewayAPI.table.openAPIJSON(OpenAPIDocument.info)
        let bytes = try OpenAPIDocument.bytes()
        let text = String(decoding: bytes, as: UTF8.self)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
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

    @Test("a request body's documented fields are the fields its route accepts")
    func requestFields() {
        // The lists the routes accepted before their bodies had types; JSONBody now reads the
        // schema's.
        #expect(SchemaComponent.credentials.propertyNames == ["email", "password"])
        #expect(SchemaComponent.guest.propertyNames == ["displayName"])
        #expect(SchemaComponent.refresh.propertyNames == ["refreshToken"])
        let profileFields: Set<String> = [
            "displayName", "birthdate", "gender", "seeking", "bio", "interests", "values", "relationshipIntent",
            "heightCm", "job", "education", "languages", "timeZone", "discovery", "visible",
        ]
        #expect(SchemaComponent.profileUpdate.propertyNames == profileFields)
        #expect(SchemaComponent.profilePatch.propertyNames == profileFields)
        #expect(SchemaComponent.discoveryUpdate.propertyNames == ["ageMin", "ageMax", "maxDistanceKm", "genders"])
        #expect(SchemaComponent.location.propertyNames == ["latitude", "longitude"])
        #expect(SchemaComponent.report.propertyNames == ["userId", "reason", "detail"])
        #expect(SchemaComponent.decision.propertyNames == ["action", "note"])
        #expect(SchemaComponent.attachmentAnswers.propertyNames == ["answers"])
    }

    @Test("component schemas are inferred from the Swift types, closed, with the rules merged in")
    func inferredSchemas() throws {
        let document = try GatewayAPI.table.openAPIDocument(OpenAPIDocument.info)
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        func schema(_ name: String) throws -> [String: Any] { try #require(schemas[name] as? [String: Any]) }
        func properties(_ name: String) throws -> [String: Any] {
            try #require(try schema(name)["properties"] as? [String: Any])
        }

        let update = try schema("ProfileUpdate")
        #expect(update["additionalProperties"] as? Bool == false)
        #expect(update["required"] as? [String] == ["birthdate", "displayName", "gender", "seeking"])
        let seeking = try #require(try properties("ProfileUpdate")["seeking"] as? [String: Any])
        #expect(seeking["minItems"] as? Int == 1)
        #expect((seeking["items"] as? [String: Any])?["enum"] as? [String] == ProfileRules.genders)

        // The documented response fields are the fields the type encodes.
        let tokens = TokenResponse(
            accessToken: "a", refreshToken: "r", tokenType: "Bearer", expiresIn: 900, userId: UUID())
        #expect(try Set(encodedKeys(tokens)) == Set(try properties("Tokens").keys))
        // The example has every field filled in.
        let profile = ProfileUpdated.example.profile
        #expect(try Set(encodedKeys(profile)) == Set(try properties("Profile").keys))
        #expect(try schema("Profile")["required"] as? [String] == ["seeking", "updatedAt", "userId"])
        let problem = Problem.validation([FieldError(field: "email", message: "x")])
        #expect(try Set(encodedKeys(problem)).isSubset(of: Set(try properties("Problem").keys)))
        #expect(try schema("Problem")["required"] as? [String] == ["status", "title", "type"])
    }

    @Test("routes with a body document its problems; routes with a token document 401 and the scheme")
    func impliedAnswers() throws {
        let document = try GatewayAPI.table.openAPIDocument(OpenAPIDocument.info)
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        for route in GatewayAPI.table.routes {
            let operation = try #require(paths[route.path]?[route.method.rawValue.lowercased()], "\(route.name)")
            let responses = try #require(operation["responses"] as? [String: Any], "\(route.name)")
            if route.body != nil {
                #expect(operation["requestBody"] != nil, "\(route.name)")
                for status in ["400", "413", "422"] { #expect(responses[status] != nil, "\(route.name) \(status)") }
            }
            if route.security == .bearer {
                #expect(operation["security"] != nil, "\(route.name)")
                #expect(responses["401"] != nil, "\(route.name)")
            }
        }
    }

    private func encodedKeys(_ value: some Encodable) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: try KindredJSON.sharedEncoder.encode(value))
        return try #require(object as? [String: Any]).keys.sorted()
    }
}
