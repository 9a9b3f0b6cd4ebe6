import Contracts
import Crypto
import Foundation

/// Opaque refresh tokens: 32 random bytes, given to the client once and stored only as
/// their SHA-256. Each use rotates the token; a token presented a second time means it
/// was stolen (or the client is confused), so its whole family is revoked.
public enum RefreshTokens {
    public static let lifetime: TimeInterval = 7 * 24 * 3600

    /// A new token and the hash to store.
    public static func mint() -> (token: String, hash: String) {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let token = AccessTokens.base64URL(bytes)
        return (token, hash(token))
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hex
    }

    /// What the stored row of a presented token allows.
    public enum Verdict: Equatable, Sendable {
        case rotate
        case unknown
        case expired
        case revoked
        /// Used before: revoke the family.
        case reused
    }

    /// The rule, without I/O: `now` comes from the caller's clock.
    public static func verdict(
        found: Bool, usedAt: Date?, revokedAt: Date?, expiresAt: Date?, now: Date
    ) -> Verdict {
        guard found, let expiresAt else { return .unknown }
        if revokedAt != nil { return .revoked }
        if usedAt != nil { return .reused }
        if now >= expiresAt { return .expired }
        return .rotate
    }
}

extension SHA256.Digest {
    /// Lower-case hex, as the gateway stores hashes.
    var hex: String { Hex.encode(self) }
}
