import Contracts
import Foundation
import SignedURLs
import Testing

@testable import GatewayService

/// Reading photo uploads (the bytes, or a form's `photo` part) and minting their links.
@Suite("Photo uploads and links")
struct PhotoUploadTests {
    let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0x41, count: 64) + [0xFF, 0xD9]

    func form(_ parts: [(headers: String, body: [UInt8])], boundary: String = "XyZ123", preamble: String = "")
        -> [UInt8]
    {
        var bytes = Array(preamble.utf8)
        for part in parts {
            bytes += Array("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8) + part.body + Array("\r\n".utf8)
        }
        return bytes + Array("--\(boundary)--\r\n".utf8)
    }

    func photoPart(_ body: [UInt8], type: String = "image/jpeg") -> (headers: String, body: [UInt8]) {
        ("Content-Disposition: form-data; name=\"photo\"; filename=\"me.jpg\"\r\nContent-Type: \(type)", body)
    }

    func read(_ body: [UInt8], _ contentType: String) -> Result<PhotoUpload, PhotoUpload.Failure> {
        PhotoUpload.read(body, contentType: contentType)
    }

    @Test("raw bytes of an image type are the photo; the claimed type is passed on, lowercased")
    func rawBytes() throws {
        #expect(
            try read(jpeg, "IMAGE/JPEG; charset=binary").get() == PhotoUpload(bytes: jpeg, claimedType: "image/jpeg"))
        #expect(read([], "image/png") == .failure(.malformed("the photo is empty")))
        #expect(PhotoUpload.checkType(nil) != nil)
        guard case .unsupportedType = PhotoUpload.checkType("image/gif") else {
            Issue.record("a GIF is not an upload type")
            return
        }
        guard case .unsupportedType = PhotoUpload.checkType("application/json") else {
            Issue.record("JSON is not an upload type")
            return
        }
        #expect(PhotoUpload.bodyLimit(contentType: "image/webp") == PhotoLimits.maxUploadBytes)
        #expect(PhotoUpload.bodyLimit(contentType: "multipart/form-data; boundary=a") > PhotoLimits.maxUploadBytes)
    }

    @Test("a form's one photo part is the photo, with other fields, a preamble and a quoted boundary")
    func formPart() throws {
        let body = form(
            [
                ("Content-Disposition: form-data; name=\"caption\"", Array("hello".utf8)),
                photoPart(jpeg, type: "image/png"),
            ],
            boundary: "----WebKitFormBoundary7MA4YWxkTrZu0gW", preamble: "ignored preamble\r\n")
        let upload = try read(body, "multipart/form-data; boundary=\"----WebKitFormBoundary7MA4YWxkTrZu0gW\"").get()
        #expect(upload == PhotoUpload(bytes: jpeg, claimedType: "image/png"))
        // Bytes that look like a boundary without the CRLF before them are content.
        let tricky = jpeg + Array("--XyZ123".utf8) + jpeg
        #expect(try read(form([photoPart(tricky)]), "multipart/form-data; boundary=XyZ123").get().bytes == tricky)
        let untyped = form([("Content-Disposition: form-data; name=photo", jpeg)])
        #expect(
            try read(untyped, "multipart/form-data; boundary=XyZ123").get().claimedType == "application/octet-stream")
    }

    @Test("a form that is not what an upload is, is named as such, never guessed at")
    func malformedForms() {
        let type = "multipart/form-data; boundary=XyZ123"
        func failure(_ body: [UInt8], _ contentType: String = "multipart/form-data; boundary=XyZ123") -> String? {
            guard case .failure(let failure) = read(body, contentType) else { return nil }
            return failure.message
        }
        #expect(
            failure(form([("Content-Disposition: form-data; name=\"other\"", jpeg)]))?.contains("no part named photo")
                == true)
        #expect(failure(form([photoPart(jpeg), photoPart(jpeg)]))?.contains("more than one photo") == true)
        #expect(
            failure(form(Array(repeating: ("Content-Disposition: form-data; name=\"x\"", [0x41]), count: 9)))?.contains(
                "more than 8 parts") == true)
        #expect(failure(form([photoPart([])]))?.contains("empty") == true)
        let endless = Array("--XyZ123\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\n".utf8) + jpeg
        #expect(failure(endless)?.contains("closing boundary") == true)
        let hugeHeader = form([("X-Padding: " + String(repeating: "a", count: 5000), jpeg)])
        #expect(failure(hugeHeader)?.contains("headers") == true)
        #expect(failure(Array("no boundary here".utf8))?.contains("no part") == true)
        #expect(failure(form([photoPart(jpeg)]), "multipart/form-data")?.contains("boundary") == true)
        #expect(PhotoUpload.boundary(of: "multipart/form-data; boundary=" + String(repeating: "b", count: 71)) == nil)
        #expect(PhotoUpload.boundary(of: "multipart/form-data; boundary=bad\u{0}byte") == nil)
        #expect(PhotoUpload.boundary(of: type) == "XyZ123")
        // Random bytes never crash the reader.
        var generator = SystemRandomNumberGenerator()
        let valid = form([photoPart(jpeg)])
        for _ in 0..<500 {
            var mutated = valid
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(
                    in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) {
                mutated = Array(mutated.prefix(Int.random(in: 0..<mutated.count, using: &generator)))
            }
            _ = read(mutated, type)
        }
    }

    @Test("an upload under an Idempotency-Key names its photo by the user and the key")
    func photoIDs() {
        let user = UUID()
        let id = MediaRoutes.photoID(of: user, key: "k-1")
        #expect(MediaRoutes.photoID(of: user, key: "k-1") == id, "a retry is the same photo")
        #expect(MediaRoutes.photoID(of: user, key: "k-2") != id)
        #expect(MediaRoutes.photoID(of: UUID(), key: "k-1") != id, "keys are the user's own")
        #expect(id.uuid.6 >> 4 == 4 && id.uuid.8 >> 6 == 0b10)
    }

    @Test("a photo part over the limit is too large, not malformed; the first boundary starts a line")
    func formLimits() throws {
        let type = "multipart/form-data; boundary=XyZ123"
        let big = form([photoPart([UInt8](repeating: 0x41, count: PhotoLimits.maxUploadBytes + 1))])
        #expect(read(big, type) == .failure(.tooLarge))
        let midLine = Array("preamble--XyZ123\r\n".utf8) + form([photoPart(jpeg)])
        #expect(try read(midLine, type).get().bytes == jpeg, "the real first boundary after a line break is found")
        let noLineStart = Array(
            "x--XyZ123\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\nA\r\n--XyZ123--".utf8)
        guard case .failure = read(noLineStart, type) else {
            Issue.record("a boundary in the middle of a line started the form")
            return
        }
    }

    @Test("links are signed for the media origin, expire after their lifetime on a whole minute, and verify")
    func links() throws {
        let signer = try MediaURLSigner(keysText: "k1:" + String(repeating: "ab", count: 32), signingKeyID: "k1")
        let minter = PhotoLinkMinter(signer: signer, publicBase: "https://media.example.com", lifetimeSeconds: 3600)
        let photo = UUID()
        let now = Date(timeIntervalSince1970: 1_800_000_010)
        let links = minter.links(to: photo, now: now)
        #expect(links.expiresAt == Date(timeIntervalSince1970: 1_800_003_660))
        #expect(minter.links(to: photo, now: now.addingTimeInterval(30)) == links, "the same within a minute")
        let url = try #require(URLComponents(string: links.display))
        #expect(url.host == "media.example.com" && url.path == "/media/\(photo.uuidString.lowercased())/display")
        let query = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        let verified = signer.verify(
            photoID: photo, variant: .display, expires: query["exp"], keyID: query["kid"], signature: query["sig"],
            now: now)
        #expect(verified == .success(1_800_003_660))
        #expect(links.thumbnail.contains("/thumbnail?"))
    }
}
