import Contracts
import Crypto
import Foundation
import ServiceRuntime

/// Signed, expiring URLs to media's origin: `<base>/media/<photoId>/<variant>?exp=…&kid=…&sig=…`,
/// the signature an HMAC-SHA256 over photo, variant and expiry with the key `kid` names.
/// The gateway mints them whenever an answer includes photos; media checks them. They
/// share the keys (`KINDRED_MEDIA_URL_KEYS`), nobody else has them; two keys are accepted
/// while one replaces the other, and only the signing key signs.
public struct MediaURLSigner: Sendable {
    public enum Variant: String, Sendable, CaseIterable {
        case display, thumbnail
    }

    public enum Refusal: Error, Equatable, Sendable {
        case malformed, unknownKey, badSignature, expired
    }

    /// Key id → secret bytes.
    public let keys: [String: [UInt8]]
    public let signingKeyID: String

    public init(keys: [String: [UInt8]], signingKeyID: String) {
        self.keys = keys
        self.signingKeyID = signingKeyID
    }

    /// Reads `KINDRED_MEDIA_URL_KEYS` (`kid:hex,kid:hex`, at least 32 bytes each) and
    /// `KINDRED_MEDIA_URL_KEY_ID` (the one that signs, which must be among them).
    public init(keysText: String, signingKeyID: String) throws {
        var keys: [String: [UInt8]] = [:]
        for entry in keysText.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
                let secret = Hex.decode(parts[1]), secret.count >= 32
            else {
                throw MediaURLKeyError(
                    "KINDRED_MEDIA_URL_KEYS must be kid:hex pairs of at least 32 bytes each, separated by commas")
            }
            keys[parts[0]] = secret
        }
        guard keys[signingKeyID] != nil else {
            throw MediaURLKeyError("KINDRED_MEDIA_URL_KEY_ID '\(signingKeyID)' is not among KINDRED_MEDIA_URL_KEYS")
        }
        self.init(keys: keys, signingKeyID: signingKeyID)
    }

    /// The signer the environment configures (`KINDRED_MEDIA_URL_KEYS`, required, and
    /// `KINDRED_MEDIA_URL_KEY_ID`, default `k1`), read the same way by the gateway and media;
    /// a problem (never echoing a secret) when they cannot be used.
    public static func configured(by reader: inout EnvironmentReader) -> MediaURLSigner {
        let keys = reader.secret(
            "KINDRED_MEDIA_URL_KEYS", minimumLength: 2,
            purpose: "the keys of signed photo URLs, shared by the gateway and media")
        let keyID = reader.string("KINDRED_MEDIA_URL_KEY_ID", default: "k1")
        do {
            return try MediaURLSigner(keysText: keys, signingKeyID: keyID)
        } catch {
            if !keys.isEmpty { reader.problem("\(error)") }
            return MediaURLSigner(keys: [:], signingKeyID: keyID)
        }
    }

    /// The path and query of a URL valid until `expires` (whole seconds since 1970).
    public func path(photoID: UUID, variant: Variant, expires: Int64) -> String {
        let signature = Self.signature(
            photoID: photoID, variant: variant, expires: expires, key: keys[signingKeyID] ?? [])
        return
            "/media/\(photoID.uuidString.lowercased())/\(variant.rawValue)?exp=\(expires)&kid=\(signingKeyID)&sig=\(signature)"
    }

    /// Checks a URL's parts, as the origin got them.
    public func verify(
        photoID: UUID, variant: Variant, expires: String?, keyID: String?, signature: String?, now: Date
    ) -> Result<Int64, Refusal> {
        guard let expiresText = expires, let expiry = Int64(expiresText), let keyID, let signature,
            let given = Hex.decode(signature), given.count == 32
        else { return .failure(.malformed) }
        guard let key = keys[keyID] else { return .failure(.unknownKey) }
        let message = Self.message(photoID: photoID, variant: variant, expires: expiry)
        // isValidAuthenticationCode compares in constant time.
        guard HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: message, using: SymmetricKey(data: key))
        else { return .failure(.badSignature) }
        guard Int64(now.timeIntervalSince1970) < expiry else { return .failure(.expired) }
        return .success(expiry)
    }

    static func message(photoID: UUID, variant: Variant, expires: Int64) -> [UInt8] {
        Array("\(photoID.uuidString.lowercased())\n\(variant.rawValue)\n\(expires)".utf8)
    }

    static func signature(photoID: UUID, variant: Variant, expires: Int64, key: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: message(photoID: photoID, variant: variant, expires: expires), using: SymmetricKey(data: key))
        return Hex.encode(code)
    }
}

/// A media URL key setting that cannot be used.
public struct MediaURLKeyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
