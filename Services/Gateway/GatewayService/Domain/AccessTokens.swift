import Crypto
import Foundation
import Synchronization

/// Short-lived JWT access tokens (HS256), each naming the key that signed it (`kid`), so a
/// new key can sign new tokens while tokens of the previous key stay valid until expiry.
public struct AccessTokens: Sendable {
    public struct Claims: Codable, Sendable, Equatable {
        public var sub: String
        public var iat: Int64
        public var exp: Int64
        public var iss: String
        public var jti: String
        /// Roles beyond a user's (`AccountRole`), absent for none.
        public var roles: [String]?
    }

    private struct Header: Codable {
        var alg: String
        var typ: String
        var kid: String
    }

    public enum Failure: Error, Equatable {
        case malformed, unknownKey, badSignature, expired
    }

    public let signingKeyID: String
    // Raw key bytes: SymmetricKey is not Sendable in this swift-crypto, so a key is
    // made per use (cheap: a copy of 32+ bytes).
    private let keys: [String: [UInt8]]
    public let lifetime: Int64
    /// Tokens whose signature was already checked, with their claims: every API request
    /// carries one, and checking it again each time (base64, JSON, HMAC) was a fifth of
    /// the gateway's work per request. Expiry is still checked on every use.
    private let verified = VerifiedTokens(capacity: 10_000)

    /// `keys` maps key ids to secrets; `signingKeyID` must be one of them.
    public init(keys: [String: String], signingKeyID: String, lifetimeSeconds: Int) {
        self.keys = keys.mapValues { Array($0.utf8) }
        self.signingKeyID = signingKeyID
        self.lifetime = Int64(lifetimeSeconds)
    }

    private static let encoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
    private static let decoder = JSONDecoder()

    public func issue(userID: UUID, roles: [String] = [], now: Date) -> String {
        let issuedAt = Int64(now.timeIntervalSince1970)
        let claims = Claims(
            sub: userID.uuidString, iat: issuedAt, exp: issuedAt + lifetime, iss: "kindred",
            jti: UUID().uuidString, roles: roles.isEmpty ? nil : roles.sorted())
        let header = Header(alg: "HS256", typ: "JWT", kid: signingKeyID)
        let signingInput =
            Self.base64URL((try? Self.encoder.encode(header)) ?? Data()) + "."
            + Self.base64URL((try? Self.encoder.encode(claims)) ?? Data())
        guard let bytes = keys[signingKeyID] else { return "" }
        let key = SymmetricKey(data: bytes)
        let signature = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key)
        return signingInput + "." + Self.base64URL(Data(signature))
    }

    /// Checks signature, key and expiry; returns the claims.
    public func verify(_ token: String, now: Date) -> Result<Claims, Failure> {
        if let claims = verified.claims(of: token) {
            return Int64(now.timeIntervalSince1970) < claims.exp ? .success(claims) : .failure(.expired)
        }
        let result = verifyAfresh(token, now: now)
        if case .success(let claims) = result { verified.remember(token, claims) }
        return result
    }

    private func verifyAfresh(_ token: String, now: Date) -> Result<Claims, Failure> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Self.decodeBase64URL(parts[0]),
            let claimsData = Self.decodeBase64URL(parts[1]), let signature = Self.decodeBase64URL(parts[2]),
            let header = try? Self.decoder.decode(Header.self, from: headerData), header.alg == "HS256"
        else { return .failure(.malformed) }
        guard let bytes = keys[header.kid] else { return .failure(.unknownKey) }
        let key = SymmetricKey(data: bytes)
        let signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key) else {
            return .failure(.badSignature)
        }
        guard let claims = try? Self.decoder.decode(Claims.self, from: claimsData) else {
            return .failure(.malformed)
        }
        guard Int64(now.timeIntervalSince1970) < claims.exp else { return .failure(.expired) }
        return .success(claims)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: Substring) -> Data? {
        // Byte by byte: the String replacements this replaces went through NSString.
        var base64: [UInt8] = []
        base64.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "-"): base64.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): base64.append(UInt8(ascii: "/"))
            default: base64.append(byte)
            }
        }
        while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(base64))
    }
}

/// Verified access tokens and their claims, at most `capacity` of them (when full, it
/// starts again empty: a cache miss only costs one more verification).
final class VerifiedTokens: Sendable {
    private let capacity: Int
    private let entries = Mutex<[String: AccessTokens.Claims]>([:])

    init(capacity: Int) { self.capacity = capacity }

    func claims(of token: String) -> AccessTokens.Claims? { entries.withLock { $0[token] } }

    func remember(_ token: String, _ claims: AccessTokens.Claims) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }
}
