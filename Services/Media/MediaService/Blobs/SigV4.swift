import Contracts
import Crypto
import Foundation

/// AWS Signature Version 4 (header form), as S3-compatible stores expect it: the canonical
/// request (method, URI-encoded path, sorted query, the signed headers lower-cased and
/// sorted, the payload's SHA-256), the string to sign, and the signature from a key derived
/// from the secret, the day, the region and the service. Pure: the time is given.
public struct SigV4Signer: Sendable {
    public var accessKey: String
    public var secretKey: String
    public var region: String
    public var service: String

    public init(accessKey: String, secretKey: String, region: String, service: String = "s3") {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.region = region
        self.service = service
    }

    /// The headers to add to the request: `x-amz-date`, `x-amz-content-sha256` and
    /// `Authorization`. `headers` are the request's other headers (with `host`), all signed.
    public func sign(
        method: String, path: String, query: [(String, String)] = [], headers: [String: String], payload: [UInt8],
        at time: Date
    ) -> [String: String] {
        sign(
            method: method, path: path, query: query, headers: headers,
            payloadHash: Hex.encode(SHA256.hash(data: payload)), at: time)
    }

    public func sign(
        method: String, path: String, query: [(String, String)], headers: [String: String], payloadHash: String,
        at time: Date, includeContentHash: Bool = true
    ) -> [String: String] {
        let (stamp, day) = Self.timestamps(time)
        var signed = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), Self.trim($0.value)) })
        signed["x-amz-date"] = stamp
        if includeContentHash { signed["x-amz-content-sha256"] = payloadHash }
        let names = signed.keys.sorted()
        let canonicalQuery = query.map { (Self.encode($0.0), Self.encode($0.1)) }.sorted { $0 < $1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonicalRequest = [
            method, Self.encodePath(path), canonicalQuery,
            names.map { "\($0):\(signed[$0] ?? "")\n" }.joined(), names.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", stamp, scope, Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        var added = ["x-amz-date": stamp]
        if includeContentHash { added["x-amz-content-sha256"] = payloadHash }
        added["Authorization"] =
            "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        return added
    }

    static func timestamps(_ time: Date) -> (stamp: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: time)
        let day = String(format: "%04d%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        return (day + String(format: "T%02d%02d%02dZ", c.hour ?? 0, c.minute ?? 0, c.second ?? 0), day)
    }

    /// RFC 3986 unreserved characters stay; everything else is %XX (upper-case hex).
    static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// S3 encodes each path segment once (not twice, as other services do).
    static func encodePath(_ path: String) -> String { path.isEmpty ? "/" : encode(path, keepSlash: true) }

    /// Header values: leading and trailing spaces dropped, inner runs of spaces made one.
    static func trim(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}
