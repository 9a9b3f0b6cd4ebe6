import Contracts
import Foundation
import OutboundHTTP
import TestSupport
import Testing

@testable import KindredCLI

/// A JSON value with its JSON type kept: `JSONSerialization` would hand out `NSNumber` for
/// both numbers and booleans.
enum JSONValue: Decodable, Equatable {
    case null
    case boolean(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .boolean(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    var text: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    var members: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    var elements: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    /// The value of a schema's `type`, a name or a list of names.
    var typeNames: [String] {
        switch self {
        case .string(let name): return [name]
        case .array(let names): return names.compactMap(\.text)
        default: return []
        }
    }

    /// Whether the value is of the JSON Schema type `name`.
    func isOfType(_ name: String) -> Bool {
        switch (name, self) {
        case ("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .integer),
            ("number", .number), ("string", .string), ("array", .array), ("object", .object):
            return true
        default:
            return false
        }
    }
}

/// Checks JSON values against the schemas of an OpenAPI document, with the keywords the
/// gateway's document uses for shapes: `type` (a name or a list of names), `properties`,
/// `required`, `additionalProperties: false`, `items`, `enum`, and `$ref` to its
/// components. Formats and lengths are rules, tested route by route, not shapes.
struct SchemaChecker {
    let components: [String: JSONValue]

    init(document: JSONValue) {
        components = document["components"]?["schemas"]?.members ?? [:]
    }

    /// What is wrong with `value`, each at its JSON path; empty if it conforms to `schema`.
    func problems(of value: JSONValue, against schema: JSONValue, at path: String = "$") -> [String] {
        if let reference = schema["$ref"]?.text {
            let prefix = "#/components/schemas/"
            guard reference.hasPrefix(prefix), let target = components[String(reference.dropFirst(prefix.count))]
            else { return ["\(path): unresolved \(reference)"] }
            return problems(of: value, against: target, at: path)
        }
        if let types = schema["type"]?.typeNames, !types.contains(where: value.isOfType) {
            return ["\(path): \(value) is not of type \(types.joined(separator: " or "))"]
        }
        var found: [String] = []
        if let values = schema["enum"]?.elements, !values.contains(value) {
            found.append("\(path): \(value) is not one of \(values)")
        }
        if case .object(let members) = value {
            let properties = schema["properties"]?.members ?? [:]
            for name in (schema["required"]?.elements ?? []).compactMap(\.text) where members[name] == nil {
                found.append("\(path): the required \(name) is missing")
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = properties[name] {
                    found += problems(of: member, against: property, at: "\(path).\(name)")
                } else if schema["additionalProperties"] == .boolean(false) {
                    found.append("\(path): \(name) is not documented")
                }
            }
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                found += problems(of: element, against: items, at: "\(path)[\(index)]")
            }
        }
        return found
    }
}

/// Compares real answers with what the served document says of their route and status.
struct DocumentedAnswers {
    let document: JSONValue
    let checker: SchemaChecker
    /// `POST /v1/auth/register 201` for each answer compared.
    private(set) var compared: Set<String> = []

    init(document: JSONValue) {
        self.document = document
        checker = SchemaChecker(document: document)
    }

    /// Records an issue for each way `response` differs from the document's description of
    /// `method` on `path` (the path as documented, `/v1/operations/{id}`).
    mutating func expectDocumented(
        _ response: HTTPResponse, _ method: String, _ path: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        compared.insert(try compare(response, method, path, sourceLocation: sourceLocation))
    }

    /// The comparison itself; returns the answer's name.
    private func compare(
        _ response: HTTPResponse, _ method: String, _ path: String, sourceLocation: SourceLocation
    ) throws -> String {
        let name = "\(method) \(path) \(response.status)"
        let operation = try #require(
            document["paths"]?[path]?[method.lowercased()], "\(method) \(path) is not documented",
            sourceLocation: sourceLocation)
        let answer = try #require(
            operation["responses"]?[String(response.status)], "\(name) is not documented: \(response.text)",
            sourceLocation: sourceLocation)
        for header in (answer["headers"]?.members ?? [:]).keys {
            #expect(
                response.headers[header.lowercased()] != nil, "\(name) lacks \(header)", sourceLocation: sourceLocation)
        }
        guard let content = answer["content"]?.members else {
            if response.status == 204 {
                #expect(response.body.isEmpty, "\(name) has a body", sourceLocation: sourceLocation)
            }
            return name
        }
        let mediaType = (response.headers["content-type"] ?? "").split(separator: ";").first.map(String.init) ?? ""
        let described = try #require(
            content[mediaType], "\(name) answered \(mediaType), documented \(content.keys.sorted())",
            sourceLocation: sourceLocation)
        guard mediaType.hasSuffix("json"), let schema = described["schema"] else { return name }
        let problems = checker.problems(of: try JSONValue.parse(response.body), against: schema)
        #expect(problems.isEmpty, "\(name): \(problems) in \(response.text)", sourceLocation: sourceLocation)
        return name
    }

    /// Every documented `application/json` answer, as `GET /v1/profile/me 200`.
    var jsonAnswers: Set<String> {
        var names: Set<String> = []
        for (path, methods) in document["paths"]?.members ?? [:] {
            for (method, operation) in methods.members ?? [:] {
                for (status, answer) in operation["responses"]?.members ?? [:]
                where answer["content"]?["application/json"] != nil {
                    names.insert("\(method.uppercased()) \(path) \(status)")
                }
            }
        }
        return names
    }
}

extension WalkingSkeletonTests {
    @Test("the gateway's real answers match the response schemas its OpenAPI document gives them")
    func documentedResponses() async throws {
        let overrides: [ServiceName: [String: String]] = [
            .gateway: ["KINDRED_BCRYPT_COST": "4", "KINDRED_RATE_LIMIT_AUTH_PER_MINUTE": "100"]
        ]
        try await RunningSuite.run(overrides: overrides) { suite in
            let served = try await send("GET", "\(suite.gatewayURL)/openapi.json")
            #expect(served.status == 200)
            #expect(served.headers["content-type"] == "application/json")
            var answers = DocumentedAnswers(document: try JSONValue.parse(served.body))
            try answers.expectDocumented(served, "GET", "/openapi.json")
            try await exerciseDocumentedRoutes(suite.gatewayURL, &answers)

            // Every documented JSON body was compared with a real one, and so were problems.
            let missed = answers.jsonAnswers.subtracting(answers.compared)
            #expect(missed.isEmpty, "documented JSON answers never compared: \(missed.sorted())")
            let statuses = Set(answers.compared.compactMap { $0.split(separator: " ").last.map(String.init) })
            #expect(statuses.isSuperset(of: ["400", "401", "404", "409", "413", "422"]), "\(statuses.sorted())")
        }
    }

    private func exerciseDocumentedRoutes(_ gateway: String, _ answers: inout DocumentedAnswers) async throws {
        let api = gateway + "/v1"
        let credentials =
            #"{"email":"\#(TestEnvironment.uniqueName("schema-"))@example.com","password":"correct horse"}"#

        // Sign-ins and their problems.
        let registered = try await send("POST", "\(api)/auth/register", body: credentials)
        try answers.expectDocumented(registered, "POST", "/v1/auth/register")
        let token = try #require(try json(registered)["accessToken"] as? String)
        try answers.expectDocumented(
            try await send("POST", "\(api)/auth/register", body: credentials), "POST", "/v1/auth/register")
        try answers.expectDocumented(
            try await send("POST", "\(api)/auth/register", body: #"{"email":"nope","password":"x","age":3}"#),
            "POST", "/v1/auth/register")
        try answers.expectDocumented(
            try await send("POST", "\(api)/auth/register", body: "{not json"), "POST", "/v1/auth/register")
        let tooLarge = #"{"email":"\#(String(repeating: "a", count: 5000))@example.com","password":"x"}"#
        try answers.expectDocumented(
            try await send("POST", "\(api)/auth/register", body: tooLarge), "POST", "/v1/auth/register")

        let login = try await send("POST", "\(api)/auth/login", body: credentials)
        try answers.expectDocumented(login, "POST", "/v1/auth/login")
        try answers.expectDocumented(
            try await send(
                "POST", "\(api)/auth/login", body: credentials.replacingOccurrences(of: "horse", with: "cow")),
            "POST", "/v1/auth/login")

        let refresh = try #require(try json(login)["refreshToken"] as? String)
        let refreshBody = #"{"refreshToken":"\#(refresh)"}"#
        let refreshed = try await send("POST", "\(api)/auth/refresh", body: refreshBody)
        try answers.expectDocumented(refreshed, "POST", "/v1/auth/refresh")
        try answers.expectDocumented(
            try await send("POST", "\(api)/auth/refresh", body: refreshBody), "POST", "/v1/auth/refresh")
        let rotated = try #require(try json(refreshed)["refreshToken"] as? String)
        try answers.expectDocumented(
            try await send("POST", "\(api)/auth/logout", body: #"{"refreshToken":"\#(rotated)"}"#),
            "POST", "/v1/auth/logout")

        // A guest, linked to an e-mail and password.
        let guest = try await send("POST", "\(api)/auth/guest", body: #"{"displayName":"Mystery"}"#)
        try answers.expectDocumented(guest, "POST", "/v1/auth/guest")
        let guestToken = try #require(try json(guest)["accessToken"] as? String)
        let guestCredentials =
            #"{"email":"\#(TestEnvironment.uniqueName("linked-"))@example.com","password":"another good one"}"#
        try answers.expectDocumented(
            try await send("POST", "\(api)/auth/link", body: guestCredentials), "POST", "/v1/auth/link")
        let linked = try await send("POST", "\(api)/auth/link", token: guestToken, body: guestCredentials)
        try answers.expectDocumented(linked, "POST", "/v1/auth/link")
        let linkedToken = try #require(try json(linked)["accessToken"] as? String)

        // The profile, empty, rejected, then filled in.
        try answers.expectDocumented(try await send("GET", "\(api)/profile/me"), "GET", "/v1/profile/me")
        var empty: HTTPResponse?
        let created = try await eventually {
            empty = try await send("GET", "\(api)/profile/me", token: token)
            return empty?.status == 200
        }
        #expect(created, "the profile never appeared")
        try answers.expectDocumented(try #require(empty), "GET", "/v1/profile/me")
        try answers.expectDocumented(
            try await send(
                "PUT", "\(api)/profile/me", token: token,
                body: #"{"displayName":"","birthdate":"2015-01-01","gender":"robot","seeking":[]}"#),
            "PUT", "/v1/profile/me")
        let profile =
            #"{"displayName":"Ada","birthdate":"1990-05-17","gender":"woman","seeking":["man"],"bio":"Engines."}"#
        try answers.expectDocumented(
            try await send("PUT", "\(api)/profile/me", token: token, body: profile), "PUT", "/v1/profile/me")
        try answers.expectDocumented(
            try await send("GET", "\(api)/profile/me", token: token), "GET", "/v1/profile/me")
        try await exerciseProfileDomainRoutes(api, token: token, linkedToken: linkedToken, &answers)

        // Operations: unknown, then an account deletion and its status.
        try answers.expectDocumented(
            try await send("GET", "\(api)/operations/\(UUID().uuidString)", token: token), "GET",
            "/v1/operations/{id}")
        try answers.expectDocumented(
            try await send("POST", "\(api)/auth/logout-all", token: token), "POST", "/v1/auth/logout-all")
        #expect(try await eventually { try await send("GET", "\(api)/profile/me", token: linkedToken).status == 200 })
        let deletion = try await send("DELETE", "\(api)/account", token: linkedToken)
        try answers.expectDocumented(deletion, "DELETE", "/v1/account")
        let location = try #require(deletion.headers["location"])
        try answers.expectDocumented(
            try await send("GET", gateway + location, token: linkedToken), "GET", "/v1/operations/{id}")
    }

    /// The profile domain's routes: a patch, a location, the vocabulary, the assessment,
    /// another user's profile, a report, and a moderator's list and decision.
    private func exerciseProfileDomainRoutes(
        _ api: String, token: String, linkedToken: String, _ answers: inout DocumentedAnswers
    ) async throws {
        try answers.expectDocumented(
            try await send("PATCH", "\(api)/profile/me", token: token, body: #"{"bio":null,"heightCm":171}"#),
            "PATCH", "/v1/profile/me")
        try answers.expectDocumented(
            try await send("PATCH", "\(api)/profile/me", token: token, body: #"{"heightCm":12}"#), "PATCH",
            "/v1/profile/me")
        try answers.expectDocumented(
            try await send(
                "PUT", "\(api)/profile/me/location", token: token, body: #"{"latitude":52.52,"longitude":13.4}"#),
            "PUT", "/v1/profile/me/location")
        try answers.expectDocumented(
            try await send(
                "PUT", "\(api)/profile/me/location", token: token, body: #"{"latitude":52.5,"longitude":13.4}"#),
            "PUT", "/v1/profile/me/location")
        try answers.expectDocumented(try await send("GET", "\(api)/vocabulary"), "GET", "/v1/vocabulary")
        try answers.expectDocumented(
            try await send("GET", "\(api)/assessments/attachment", token: token), "GET", "/v1/assessments/attachment")
        try answers.expectDocumented(
            try await send(
                "POST", "\(api)/assessments/attachment", token: token,
                body: #"{"answers":\#(Array(repeating: 3, count: 18))}"#),
            "POST", "/v1/assessments/attachment")

        let me = try json(try await send("GET", "\(api)/profile/me", token: token))
        let userID = try #require(me["userId"] as? String)
        let photoIDs = try await exercisePhotoRoutes(api, token: token, &answers)
        try answers.expectDocumented(
            try await send(
                "PUT", "\(api)/profile/me", token: linkedToken,
                body: #"{"displayName":"Eve","birthdate":"1991-02-03","gender":"woman","seeking":["man"]}"#),
            "PUT", "/v1/profile/me")
        try answers.expectDocumented(
            try await send("GET", "\(api)/profiles/\(userID)", token: linkedToken), "GET", "/v1/profiles/{userId}")
        try answers.expectDocumented(
            try await send("GET", "\(api)/profiles/\(UUID().uuidString)", token: linkedToken), "GET",
            "/v1/profiles/{userId}")
        let report = try await send(
            "POST", "\(api)/reports", token: linkedToken, body: #"{"userId":"\#(userID)","reason":"spam"}"#)
        try answers.expectDocumented(report, "POST", "/v1/reports")
        try answers.expectDocumented(
            try await send(
                "POST", "\(api)/reports", token: linkedToken, body: #"{"userId":"\#(userID)","reason":"spam"}"#),
            "POST", "/v1/reports")
        try answers.expectDocumented(
            try await send("GET", "\(api)/admin/reports", token: linkedToken), "GET", "/v1/admin/reports")

        // A moderator: granted by an operator, in the next token.
        let moderatorEmail = "\(TestEnvironment.uniqueName("moderator-"))@example.com"
        let moderatorCredentials = #"{"email":"\#(moderatorEmail)","password":"correct horse"}"#
        #expect(try await send("POST", "\(api)/auth/register", body: moderatorCredentials).status == 201)
        let environment = try CLIEnvironment.load(currentDirectory: "/nonexistent")
        _ = try await AccountsCommand.change("moderator", moderatorEmail, granted: true, in: environment)
        var moderatorToken = ""
        let granted = try await eventually {
            let signedIn = try await send("POST", "\(api)/auth/login", body: moderatorCredentials)
            moderatorToken = (try? json(signedIn)["accessToken"] as? String) ?? ""
            return try await send("GET", "\(api)/admin/reports", token: moderatorToken).status == 200
        }
        #expect(granted)
        try answers.expectDocumented(
            try await send("GET", "\(api)/admin/reports?status=all", token: moderatorToken), "GET", "/v1/admin/reports")
        let reportID = try #require(try json(report)["reportId"] as? String)
        try answers.expectDocumented(
            try await send(
                "POST", "\(api)/admin/reports/\(reportID)/decision", token: moderatorToken,
                body: #"{"action":"warn","note":"first time"}"#),
            "POST", "/v1/admin/reports/{id}/decision")
        try answers.expectDocumented(
            try await send(
                "POST", "\(api)/admin/reports/\(reportID)/decision", token: moderatorToken, body: #"{"action":"warn"}"#),
            "POST", "/v1/admin/reports/{id}/decision")

        try answers.expectDocumented(
            try await send("GET", "\(api)/admin/photos?status=approved", token: moderatorToken), "GET",
            "/v1/admin/photos")
        try answers.expectDocumented(
            try await send("GET", "\(api)/admin/photos?status=gone", token: moderatorToken), "GET", "/v1/admin/photos")
        for _ in 0..<2 {
            try answers.expectDocumented(
                try await send(
                    "POST", "\(api)/admin/photos/\(photoIDs[1])/decision", token: moderatorToken,
                    body: #"{"decision":"reject","reason":"not you"}"#),
                "POST", "/v1/admin/photos/{id}/decision")
        }
    }

    /// The photo routes: uploads (and what they refuse), the list, one photo, the order.
    /// Returns the two photos uploaded, both approved.
    private func exercisePhotoRoutes(_ api: String, token: String, _ answers: inout DocumentedAnswers) async throws
        -> [String]
    {
        let http = HTTPClient(timeout: .seconds(15))
        func upload(_ bytes: [UInt8], _ type: String) async throws -> HTTPResponse {
            try await http.send(
                "POST", "\(api)/media/photos", headers: ["Authorization": "Bearer \(token)", "Content-Type": type],
                body: bytes)
        }
        var photoIDs: [String] = []
        for _ in 0..<2 {
            let uploaded = try await upload(TestImages.png(), "image/png")
            try answers.expectDocumented(uploaded, "POST", "/v1/media/photos")
            photoIDs.append(try #require(try json(uploaded)["photoId"] as? String))
        }
        try answers.expectDocumented(try await upload(Array("x".utf8), "text/plain"), "POST", "/v1/media/photos")
        try answers.expectDocumented(
            try await upload([UInt8](repeating: 0, count: PhotoLimits.maxUploadBytes + 1), "image/png"), "POST",
            "/v1/media/photos")
        try answers.expectDocumented(
            try await upload(Array("--b\r\n\r\n\r\n--b--".utf8), "multipart/form-data; boundary=b"), "POST",
            "/v1/media/photos")
        for photoID in photoIDs {
            let done = try await eventually(timeout: .seconds(30)) {
                let photo = try await send("GET", "\(api)/media/photos/\(photoID)", token: token)
                return (try? json(photo)["status"] as? String) == "approved"
            }
            #expect(done, "photo \(photoID) was not approved")
        }
        try answers.expectDocumented(
            try await send("GET", "\(api)/media/photos/\(photoIDs[0])", token: token), "GET", "/v1/media/photos/{id}")
        try answers.expectDocumented(
            try await send("GET", "\(api)/media/photos/\(UUID().uuidString)", token: token), "GET",
            "/v1/media/photos/{id}")
        try answers.expectDocumented(
            try await send("GET", "\(api)/media/photos", token: token), "GET", "/v1/media/photos")
        try answers.expectDocumented(
            try await send(
                "PUT", "\(api)/media/photos/order", token: token,
                body: #"{"photoIds":["\#(photoIDs[1])","\#(photoIDs[0])"]}"#),
            "PUT", "/v1/media/photos/order")
        try answers.expectDocumented(
            try await send("PUT", "\(api)/media/photos/order", token: token, body: #"{"photoIds":["nope"]}"#), "PUT",
            "/v1/media/photos/order")
        try answers.expectDocumented(
            try await send("DELETE", "\(api)/media/photos/\(UUID().uuidString)", token: token), "DELETE",
            "/v1/media/photos/{id}")
        return photoIDs
    }
}
