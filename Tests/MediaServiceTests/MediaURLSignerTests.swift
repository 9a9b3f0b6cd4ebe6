import Foundation
import SignedURLs
import Testing

@Suite("Signed media URLs")
struct MediaURLSignerTests {
    let photo = UUID()
    let now = Date(timeIntervalSince1970: 1_795_348_800)
    static let oldKey = String(repeating: "ab", count: 32)
    static let newKey = String(repeating: "cd", count: 32)

    func parts(_ path: String) -> (UUID?, String, [String: String]) {
        let url = URLComponents(string: "http://media" + path)
        let segments = url?.path.split(separator: "/") ?? []
        var query: [String: String] = [:]
        for item in url?.queryItems ?? [] { query[item.name] = item.value }
        return (segments.count == 3 ? UUID(uuidString: String(segments[1])) : nil, String(segments.last ?? ""), query)
    }

    @Test("a URL verifies until it expires, for its photo and variant only; keys rotate")
    func signAndVerify() throws {
        let old = try MediaURLSigner(keysText: "k1:\(Self.oldKey)", signingKeyID: "k1")
        let path = old.path(photoID: photo, variant: .display, expires: Int64(now.timeIntervalSince1970) + 3600)
        let (id, variant, query) = parts(path)
        #expect(id == photo && variant == "display")
        func check(
            _ signer: MediaURLSigner, photo: UUID? = nil, variant: MediaURLSigner.Variant = .display,
            exp: String? = nil, sig: String? = nil, at: Date? = nil
        ) -> Result<Int64, MediaURLSigner.Refusal> {
            signer.verify(
                photoID: photo ?? self.photo, variant: variant, expires: exp ?? query["exp"], keyID: query["kid"],
                signature: sig ?? query["sig"], now: at ?? now)
        }
        #expect((try? check(old).get()) != nil)
        #expect(check(old, at: now + 3600) == .failure(.expired))
        #expect(check(old, photo: UUID()) == .failure(.badSignature))
        #expect(check(old, variant: .thumbnail) == .failure(.badSignature))
        #expect(check(old, exp: String(Int64(now.timeIntervalSince1970) + 999_999)) == .failure(.badSignature))
        var tampered = Array(query["sig"] ?? "")
        tampered[0] = tampered[0] == "0" ? "1" : "0"
        #expect(check(old, sig: String(tampered)) == .failure(.badSignature))
        #expect(check(old, sig: "zz") == .failure(.malformed))

        // Rotation: the new key signs, the old one is still accepted; then only the new.
        let rotating = try MediaURLSigner(keysText: "k1:\(Self.oldKey),k2:\(Self.newKey)", signingKeyID: "k2")
        #expect((try? check(rotating).get()) != nil, "URLs signed before the rotation still work")
        #expect(rotating.path(photoID: photo, variant: .thumbnail, expires: 1).contains("kid=k2"))
        let rotated = try MediaURLSigner(keysText: "k2:\(Self.newKey)", signingKeyID: "k2")
        #expect(check(rotated) == .failure(.unknownKey))
    }

    @Test("keys are checked at start-up")
    func keys() {
        #expect(throws: MediaURLKeyError.self) { try MediaURLSigner(keysText: "k1:abcd", signingKeyID: "k1") }
        #expect(throws: MediaURLKeyError.self) { try MediaURLSigner(keysText: "k1:\(Self.oldKey)", signingKeyID: "k2") }
        #expect(throws: MediaURLKeyError.self) { try MediaURLSigner(keysText: "", signingKeyID: "k1") }
    }
}
