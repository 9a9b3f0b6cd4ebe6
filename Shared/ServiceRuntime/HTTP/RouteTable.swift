import Foundation
import Hummingbird

/// Every route of an HTTP server, each listed once with what it reads and answers. The
/// router is built from it (`register`) and so is the server's OpenAPI document
/// (`openAPIDocument`), so the two cannot drift apart.
///
/// The table is a constant: its handlers take the server's `Dependencies` (the values that
/// serve the routes, made at start-up) as their first argument, so the document can be
/// built without starting anything.
package struct RouteTable<Dependencies: Sendable>: Sendable {
    /// Answers one request, given the server's dependencies.
    package typealias Handler =
        @Sendable (Dependencies, Request, KindredRequestContext) async throws -> any ResponseGenerator

    /// One method on one path.
    package struct Route: Sendable {
        package var method: HTTPRequest.Method
        /// As the router matches it, with `{name}` for a path parameter.
        package var path: String
        package var summary: String
        /// The document's group for the route (`auth`, `profile`, …).
        package var tag: String
        package var security: RouteSecurity
        /// Headers, path and query parameters the route reads.
        package var parameters: [RouteParameter]
        /// The JSON body the route reads, if any.
        package var body: SchemaComponent?
        /// The bytes the route takes instead of JSON (an upload), if any.
        package var upload: RouteUpload?
        /// What the route answers; a route with a body also answers what reading it may
        /// (`JSONBody`: 400, 413, 422) unless it lists those statuses itself.
        package var responses: [RouteResponse]
        /// Nil for a route the runtime serves (`OperationalRoutes`): documented here,
        /// registered there.
        package var handler: Handler?

        package init(
            _ method: HTTPRequest.Method, _ path: String, summary: String, tag: String,
            security: RouteSecurity = .open, parameters: [RouteParameter] = [], body: SchemaComponent? = nil,
            upload: RouteUpload? = nil, responses: [RouteResponse], handler: @escaping Handler
        ) {
            self.method = method
            self.path = path
            self.summary = summary
            self.tag = tag
            self.security = security
            self.parameters = parameters
            self.body = body
            self.upload = upload
            self.responses = responses
            self.handler = handler
        }

        private init(
            documenting method: HTTPRequest.Method, _ path: String, summary: String, tag: String,
            responses: [RouteResponse]
        ) {
            self.method = method
            self.path = path
            self.summary = summary
            self.tag = tag
            self.security = .open
            self.parameters = []
            self.body = nil
            self.upload = nil
            self.responses = responses
            self.handler = nil
        }

        /// A route the runtime registers itself (the probes): the table only documents it.
        package static func servedByRuntime(
            _ method: HTTPRequest.Method, _ path: String, summary: String, tag: String, responses: [RouteResponse]
        ) -> Route {
            Route(documenting: method, path, summary: summary, tag: tag, responses: responses)
        }

        /// `GET /v1/profile/me`: the route as messages and tests name it.
        package var name: String { "\(method.rawValue) \(path)" }

        /// The answers the document lists, one per status: the route's own, then those its
        /// body implies. The first one listed for a status wins.
        package var documentedResponses: [RouteResponse] {
            var answers: [RouteResponse] = []
            for response in responses + (body == nil ? [] : RouteResponse.bodyProblems) {
                if !answers.contains(where: { $0.status == response.status }) { answers.append(response) }
            }
            return answers
        }
    }

    package var routes: [Route]

    package init(_ routes: [Route]) { self.routes = routes }

    /// Adds every route that has a handler to `router`, served with `dependencies`.
    package func register(on router: Router<KindredRequestContext>, serving dependencies: Dependencies) {
        for route in routes {
            guard let handler = route.handler else { continue }
            router.on(RouterPath(route.path), method: route.method) { request, context in
                try await handler(dependencies, request, context).response(from: request, context: context)
            }
        }
    }
}

/// A body of bytes a route takes: sent as they are, in one of `mediaTypes`, or as the
/// one `formField` part of `multipart/form-data`.
package struct RouteUpload: Sendable, Equatable {
    package var mediaTypes: [String]
    package var formField: String
    package var maxBytes: Int

    package init(mediaTypes: [String], formField: String, maxBytes: Int) {
        self.mediaTypes = mediaTypes
        self.formField = formField
        self.maxBytes = maxBytes
    }
}

/// Who may call a route.
package enum RouteSecurity: Sendable, Equatable {
    /// Anyone.
    case open
    /// The holder of a valid access token (`Authorization: Bearer <token>`).
    case bearer
}

/// A parameter a route reads besides its body.
package struct RouteParameter: Sendable, Equatable {
    package enum Location: String, Sendable, Equatable {
        case header
        case path
        case query
    }

    package var name: String
    package var location: Location
    package var required: Bool
    package var description: String?
    /// The value is a string; `format` (`uuid`) and `maxLength` say more.
    package var format: String?
    package var maxLength: Int?

    package init(
        _ name: String, in location: Location, required: Bool, description: String? = nil, format: String? = nil,
        maxLength: Int? = nil
    ) {
        self.name = name
        self.location = location
        self.required = required
        self.description = description
        self.format = format
        self.maxLength = maxLength
    }
}

/// One answer a route may give, as its document describes it.
package struct RouteResponse: Sendable, Equatable {
    /// What the body is.
    package enum Content: Sendable, Equatable {
        /// No body, or one the description alone tells about.
        case described
        /// `application/json` of the component's schema.
        case json(SchemaComponent)
        /// `application/problem+json`: a `Problem`.
        case problem
        /// `text/event-stream`: Server-Sent Events.
        case eventStream
    }

    package var status: HTTPResponse.Status
    package var description: String
    package var content: Content
    /// The short names of the problem types answered with this status (`email-taken`).
    package var problemTypes: [String]
    /// Response headers the client should read (`Location`, `Retry-After`).
    package var headers: [String]

    package init(
        _ status: HTTPResponse.Status, _ description: String, content: Content, problemTypes: [String] = [],
        headers: [String] = []
    ) {
        self.status = status
        self.description = description
        self.content = content
        self.problemTypes = problemTypes
        self.headers = headers
    }

    /// A JSON body of `schema`.
    package static func json(
        _ status: HTTPResponse.Status, _ description: String, _ schema: SchemaComponent, headers: [String] = []
    ) -> RouteResponse {
        RouteResponse(status, description, content: .json(schema), headers: headers)
    }

    /// A problem document of one of `types`.
    package static func problem(
        _ status: HTTPResponse.Status, _ description: String, types: [String] = [], headers: [String] = []
    ) -> RouteResponse {
        RouteResponse(status, description, content: .problem, problemTypes: types, headers: headers)
    }

    /// An answer told by its description alone (204, or a body the document leaves open).
    package static func described(_ status: HTTPResponse.Status, _ description: String) -> RouteResponse {
        RouteResponse(status, description, content: .described)
    }

    /// A 200 stream of Server-Sent Events.
    package static func eventStream(_ description: String) -> RouteResponse {
        RouteResponse(.ok, description, content: .eventStream)
    }

    /// What reading a JSON body with `JSONBody` may answer.
    package static let bodyProblems: [RouteResponse] = [
        .problem(.badRequest, "The body is not a JSON object.", types: ["malformed-body"]),
        .problem(.contentTooLarge, "The body is too large."),
        .problem(.unprocessableContent, "Invalid fields, each named in `errors`.", types: ["validation"]),
    ]
}
