import Contracts
import Foundation
import Hummingbird

/// The OpenAPI 3.1 document of the gateway, served at `/openapi.json`. A test compares its
/// paths and methods with the router's, both ways.
enum OpenAPIDocument {
    static func json() -> [UInt8] {
        let data =
            (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return Array(data)
    }

    private static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }

    private static func jsonBody(_ schema: String) -> [String: Any] {
        ["required": true, "content": ["application/json": ["schema": ref(schema)]]]
    }

    private static func json(_ description: String, _ schema: String) -> [String: Any] {
        ["description": description, "content": ["application/json": ["schema": ref(schema)]]]
    }

    private static func problem(_ description: String) -> [String: Any] {
        ["description": description, "content": ["application/problem+json": ["schema": ref("Problem")]]]
    }

    /// The answers every API route may give besides its own.
    private static var commonProblems: [String: Any] {
        [
            "400": problem("The body is not a JSON object."),
            "413": problem("The body is too large."),
            "422": problem("Invalid fields, each named in `errors`."),
            "429": problem("Rate limited; see `Retry-After`."),
            "503": problem("A dependency is unavailable; see `Retry-After`."),
        ]
    }

    private static func operation(
        _ summary: String, tag: String, body: String? = nil, secured: Bool = false,
        responses: [String: Any]
    ) -> [String: Any] {
        var operation: [String: Any] = [
            "summary": summary, "tags": [tag],
            "responses": commonProblems.merging(responses) { _, own in own },
        ]
        if let body { operation["requestBody"] = jsonBody(body) }
        if secured {
            operation["security"] = [["bearer": [String]()]]
            var responses = operation["responses"] as? [String: Any] ?? [:]
            responses["401"] = problem("No valid access token.")
            operation["responses"] = responses
        }
        if tag == "auth", body != nil {
            operation["parameters"] = [
                [
                    "name": "Idempotency-Key", "in": "header", "required": false,
                    "description":
                        "The same key and body replay the first answer (sign-ins answer with fresh tokens; guest and refresh ignore the key); another body is 422.",
                    "schema": ["type": "string", "maxLength": 255],
                ]
            ]
        }
        return operation
    }

    private static var tokens: [String: Any] { json("Signed in.", "Tokens") }

    // Built on demand (a dictionary of `Any` cannot be a shared constant); served from
    // `bytes`, which is built once.
    static var document: [String: Any] {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "Kindred API", "version": "1",
                "description": "The gateway of the Kindred dating backend. Every error is RFC 9457 problem+json.",
            ],
            "servers": [["url": "http://127.0.0.1:8080"]],
            "paths": [
                "/v1/auth/register": [
                    "post": operation(
                        "Register with e-mail and password", tag: "auth", body: "Credentials",
                        responses: ["201": tokens, "409": problem("The e-mail is taken.")])
                ],
                "/v1/auth/login": [
                    "post": operation(
                        "Sign in", tag: "auth", body: "Credentials",
                        responses: [
                            "200": tokens, "401": problem("Wrong e-mail or password."),
                            "403": problem("The account is suspended."),
                        ])
                ],
                "/v1/auth/guest": [
                    "post": operation(
                        "Start a guest account", tag: "auth", body: "GuestRequest", responses: ["201": tokens])
                ],
                "/v1/auth/link": [
                    "post": operation(
                        "Give a guest account an e-mail and password (same user id)", tag: "auth", body: "Credentials",
                        secured: true,
                        responses: ["200": tokens, "409": problem("Not a guest, or the e-mail is taken.")])
                ],
                "/v1/auth/refresh": [
                    "post": operation(
                        "Rotate a refresh token", tag: "auth", body: "RefreshRequest",
                        responses: [
                            "200": tokens, "401": problem("Unknown, expired, revoked or reused refresh token."),
                            "403": problem("The account is suspended."),
                        ])
                ],
                "/v1/auth/logout": [
                    "post": operation(
                        "Sign this device out", tag: "auth", body: "RefreshRequest",
                        responses: ["204": ["description": "Signed out."]])
                ],
                "/v1/auth/logout-all": [
                    "post": operation(
                        "Sign out everywhere", tag: "auth", secured: true,
                        responses: ["204": ["description": "Every refresh token revoked."]])
                ],
                "/v1/profile/me": [
                    "get": operation(
                        "The signed-in user's profile", tag: "profile", secured: true,
                        responses: [
                            "200": json("The profile.", "Profile"), "404": problem("No profile yet."),
                            "504": problem("The profile service did not answer in time."),
                        ]),
                    "put": operation(
                        "Replace the editable fields of the profile", tag: "profile", body: "ProfileUpdate",
                        secured: true,
                        responses: [
                            "200": json("The new profile.", "Profile"),
                            "504": problem("The profile service did not answer in time."),
                        ]),
                ],
                "/v1/events": [
                    "get": [
                        "summary": "The signed-in user's events as Server-Sent Events", "tags": ["live"],
                        "security": [["bearer": [String]()]],
                        "parameters": [
                            [
                                "name": "Last-Event-ID", "in": "header", "required": false,
                                "description":
                                    "Replays the events after this one that are still kept, then streams live ones.",
                                "schema": ["type": "string"],
                            ]
                        ],
                        "responses": [
                            "200": [
                                "description":
                                    "An endless stream: `id` (event id), `event` (event type), `data` (the event's data as JSON); comment lines as heartbeats.",
                                "content": ["text/event-stream": ["schema": ["type": "string"]]],
                            ],
                            "401": problem("No valid access token."),
                            "429": problem("Rate limited; see `Retry-After`."),
                            "503": problem("The gateway database is unavailable."),
                        ],
                    ]
                ],
                "/v1/account": [
                    "delete": operation(
                        "Delete the account and everything every service keeps about the user", tag: "account",
                        secured: true,
                        responses: [
                            "202": [
                                "description": "Deletion started; follow `Location` (`/v1/operations/{id}`).",
                                "headers": ["Location": ["schema": ["type": "string"]]],
                                "content": ["application/json": ["schema": ref("Operation")]],
                            ]
                        ])
                ],
                "/v1/operations/{id}": [
                    "get": [
                        "summary": "The status of a long operation", "tags": ["account"],
                        "security": [["bearer": [String]()]],
                        "parameters": [
                            [
                                "name": "id", "in": "path", "required": true,
                                "schema": ["type": "string", "format": "uuid"],
                            ]
                        ],
                        "responses": [
                            "200": json("The operation.", "Operation"), "401": problem("No valid access token."),
                            "404": problem("No such operation for this user."),
                        ],
                    ]
                ],
                "/openapi.json": [
                    "get": [
                        "summary": "This document", "tags": ["operations"],
                        "responses": ["200": ["description": "OpenAPI 3.1"]],
                    ]
                ],
                "/health": [
                    "get": ["summary": "Alive", "tags": ["operations"], "responses": ["200": ["description": "Alive"]]]
                ],
                "/ready": [
                    "get": [
                        "summary":
                            "Broker and database reachable, migrations applied (the reasons and /metrics are on the admin port)",
                        "tags": ["operations"],
                        "responses": [
                            "200": ["description": "Ready: {\"status\":\"ready\"}"],
                            "503": ["description": "Not ready: {\"status\":\"not-ready\"}"],
                        ],
                    ]
                ],
            ],
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "schemas": [
                    "Credentials": [
                        "type": "object", "additionalProperties": false, "required": ["email", "password"],
                        "properties": [
                            "email": ["type": "string", "format": "email", "maxLength": 254],
                            "password": ["type": "string", "minLength": 8, "maxLength": 72],
                        ],
                    ],
                    "GuestRequest": [
                        "type": "object", "additionalProperties": false, "required": ["displayName"],
                        "properties": ["displayName": ["type": "string", "minLength": 1, "maxLength": 50]],
                    ],
                    "RefreshRequest": [
                        "type": "object", "additionalProperties": false, "required": ["refreshToken"],
                        "properties": ["refreshToken": ["type": "string"]],
                    ],
                    "Tokens": [
                        "type": "object",
                        "required": ["accessToken", "refreshToken", "tokenType", "expiresIn", "userId"],
                        "properties": [
                            "accessToken": ["type": "string", "description": "JWT, valid for `expiresIn` seconds"],
                            "refreshToken": ["type": "string", "description": "Opaque, 7 days, rotated on every use"],
                            "tokenType": ["const": "Bearer"], "expiresIn": ["type": "integer"],
                            "userId": ["type": "string", "format": "uuid"],
                        ],
                    ],
                    "Profile": [
                        "type": "object", "required": ["userId", "seeking", "updatedAt"],
                        "properties": [
                            "userId": ["type": "string", "format": "uuid"], "displayName": ["type": "string"],
                            "birthdate": ["type": "string", "format": "date"],
                            "gender": ["enum": ProfileRules.genders],
                            "seeking": ["type": "array", "items": ["enum": ProfileRules.genders]],
                            "bio": ["type": "string"], "updatedAt": ["type": "string", "format": "date-time"],
                        ],
                    ],
                    "ProfileUpdate": [
                        "type": "object", "additionalProperties": false,
                        "required": ["displayName", "birthdate", "gender", "seeking"],
                        "properties": [
                            "displayName": ["type": "string", "minLength": 1, "maxLength": 50],
                            "birthdate": ["type": "string", "format": "date", "description": "An adult: 18 or older"],
                            "gender": ["enum": ProfileRules.genders],
                            "seeking": [
                                "type": "array", "minItems": 1, "uniqueItems": true,
                                "items": ["enum": ProfileRules.genders],
                            ],
                            "bio": ["type": "string", "maxLength": ProfileRules.bioMaxLength],
                        ],
                    ],
                    "Operation": [
                        "type": "object", "required": ["operationId", "kind", "status", "createdAt"],
                        "properties": [
                            "operationId": ["type": "string", "format": "uuid"], "kind": ["type": "string"],
                            "status": ["enum": ["pending", "completed"]],
                            "createdAt": ["type": "string", "format": "date-time"],
                            "completedAt": ["type": "string", "format": "date-time"],
                        ],
                    ],
                    "Problem": [
                        "type": "object", "required": ["type", "title", "status"],
                        "properties": [
                            "type": ["type": "string", "format": "uri"], "title": ["type": "string"],
                            "status": ["type": "integer"], "detail": ["type": "string"], "instance": ["type": "string"],
                            "retryAfter": ["type": "integer"],
                            "errors": [
                                "type": "array",
                                "items": [
                                    "type": "object", "required": ["field", "message"],
                                    "properties": ["field": ["type": "string"], "message": ["type": "string"]],
                                ],
                            ],
                        ],
                    ],
                ],
            ],
        ]

    }

    /// The document as served.
    static let bytes: [UInt8] = json()

    /// Every (method, path) the document describes.
    static var operations: Set<String> {
        guard let paths = document["paths"] as? [String: [String: Any]] else { return [] }
        return Set(paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } })
    }
}
