import Foundation
import OutboundHTTP

/// Blobs in an S3-compatible object store, path-style (`<endpoint>/<bucket>/<key>`), each
/// request signed with SigV4 over libcurl (`OutboundHTTP`). Several media instances share
/// blobs through it.
public struct S3BlobStore: BlobStore {
    public struct Configuration: Sendable {
        /// `http(s)://host[:port]`, no path.
        public var endpoint: String
        public var bucket: String
        public var region: String
        public var accessKey: String
        public var secretKey: String

        public init(endpoint: String, bucket: String, region: String, accessKey: String, secretKey: String) {
            self.endpoint = endpoint
            self.bucket = bucket
            self.region = region
            self.accessKey = accessKey
            self.secretKey = secretKey
        }
    }

    let configuration: Configuration
    let signer: SigV4Signer
    let host: String
    let http: HTTPClient
    let now: @Sendable () -> Date

    public init(
        _ configuration: Configuration, http: HTTPClient = HTTPClient(timeout: .seconds(30)),
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        guard let url = URL(string: configuration.endpoint), let scheme = url.scheme,
            ["http", "https"].contains(scheme),
            let host = url.host, url.path.isEmpty || url.path == "/"
        else { throw BlobStoreError("the S3 endpoint must be http(s)://host[:port]") }
        self.configuration = configuration
        self.host = url.port.map { "\(host):\($0)" } ?? host
        self.signer = SigV4Signer(
            accessKey: configuration.accessKey, secretKey: configuration.secretKey, region: configuration.region)
        self.http = http
        self.now = now
    }

    private func objectPath(_ key: String) throws -> String {
        guard BlobKey.isValid(key) else { throw BlobStoreError("not a blob key") }
        return "/\(configuration.bucket)/\(key)"
    }

    /// The SHA-256 of an empty body, which GET and DELETE sign.
    private static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Sends a signed request. `payloadHash` is the body's SHA-256 (a blob's key is that
    /// already, so a PUT does not hash the bytes again).
    private func send(
        _ method: String, path: String, body: [UInt8] = [], payloadHash: String = emptyHash,
        headers: [String: String] = [:]
    ) async throws -> HTTPResponse {
        var all = headers
        all["Host"] = host
        let signed = signer.sign(
            method: method, path: path, query: [], headers: all, payloadHash: payloadHash, at: now())
        all.merge(signed) { _, new in new }
        all["Host"] = nil  // curl sends it from the URL
        let url =
            configuration.endpoint.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            + SigV4Signer.encodePath(path)
        return try await http.send(method, url, headers: all, body: method == "PUT" ? body : nil)
    }

    /// The store's own words for a failure: S3's error document has a `Code`.
    private func failure(_ response: HTTPResponse, _ what: String) -> BlobStoreError {
        let code = response.text.range(of: "<Code>").flatMap { start in
            response.text[start.upperBound...].range(of: "</Code>").map {
                String(response.text[start.upperBound..<$0.lowerBound])
            }
        }
        return BlobStoreError("S3 \(what) answered \(response.status)\(code.map { " \($0)" } ?? "")")
    }

    public func put(_ bytes: [UInt8], key: String, contentType: String) async throws {
        let response = try await send(
            "PUT", path: try objectPath(key), body: bytes, payloadHash: key, headers: ["Content-Type": contentType])
        guard (200..<300).contains(response.status) else { throw failure(response, "PUT") }
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        let response = try await send("GET", path: try objectPath(key))
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw failure(response, "GET") }
        return response.body
    }

    public func delete(_ key: String) async throws {
        let response = try await send("DELETE", path: try objectPath(key))
        guard (200..<300).contains(response.status) || response.status == 404 else { throw failure(response, "DELETE") }
    }
}
