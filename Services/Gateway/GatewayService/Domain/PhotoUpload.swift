import Contracts
import Foundation

/// What a photo upload's body holds: the image bytes, sent as they are (`image/jpeg`,
/// `image/png`, `image/webp`) or as the one `photo` part of `multipart/form-data`
/// (RFC 7578), the way a browser's form sends a file. Read as an attacker would write it:
/// the boundary, the part headers and the number of parts are bounded, and anything
/// unexpected is a named error rather than a guess. The type the client claims is only
/// passed on; media tells the type from the bytes.
struct PhotoUpload: Equatable, Sendable {
    var bytes: [UInt8]
    /// The claimed media type (`image/jpeg`), or `application/octet-stream` when the part has none.
    var claimedType: String

    /// The media types an upload may be sent as, as the bytes or as a form.
    static let imageTypes = ["image/jpeg", "image/png", "image/webp"]
    static let formType = "multipart/form-data"
    /// Bytes a form may carry besides the photo (boundaries, part headers, small fields).
    static let formOverhead = 16 * 1024
    /// At most this many parts in a form.
    static let maxParts = 8
    /// At most this many bytes of headers in one part.
    static let maxPartHeaderBytes = 4096

    enum Failure: Error, Equatable {
        /// The body's type is not one an upload is sent as (415).
        case unsupportedType(String)
        /// The body is not what its type says (422, naming `photo`).
        case malformed(String)
        /// The photo itself is over the limit (413), though the form fit in its allowance.
        case tooLarge

        var message: String {
            switch self {
            case .unsupportedType(let message), .malformed(let message): return message
            case .tooLarge: return "the photo is larger than \(PhotoLimits.maxUploadBytes) bytes"
            }
        }
    }

    /// The most bytes a body of this content type may have: the photo's limit, plus the
    /// form's own bytes for a form.
    static func bodyLimit(contentType: String) -> Int {
        mediaType(of: contentType) == formType ? PhotoLimits.maxUploadBytes + formOverhead : PhotoLimits.maxUploadBytes
    }

    /// Checks the body's type before any of it is read.
    static func checkType(_ contentType: String?) -> Failure? {
        guard let contentType else {
            return .unsupportedType("send the photo as image/jpeg, image/png, image/webp or multipart/form-data")
        }
        let type = mediaType(of: contentType)
        if imageTypes.contains(type) { return nil }
        if type == formType { return boundary(of: contentType) == nil ? .malformed(Self.noBoundary) : nil }
        return .unsupportedType(
            "\(type.isEmpty ? "no type" : type) is not a photo upload; send image/jpeg, image/png, image/webp or multipart/form-data"
        )
    }

    /// The upload in a body of `contentType` (checked with `checkType` first).
    static func read(_ body: [UInt8], contentType: String) -> Result<PhotoUpload, Failure> {
        if let failure = checkType(contentType) { return .failure(failure) }
        let type = mediaType(of: contentType)
        if imageTypes.contains(type) {
            guard !body.isEmpty else { return .failure(.malformed("the photo is empty")) }
            return .success(PhotoUpload(bytes: body, claimedType: type))
        }
        guard let boundary = boundary(of: contentType) else { return .failure(.malformed(Self.noBoundary)) }
        return photoPart(of: body, boundary: Array("--\(boundary)".utf8))
    }

    private static let noBoundary = "a multipart/form-data body needs a boundary of 1 to 70 characters"

    /// The type and subtype of a `Content-Type`, lowercased, without parameters.
    static func mediaType(of contentType: String) -> String {
        let type = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// The `boundary` parameter (quoted or not) if it is 1 to 70 characters of those RFC
    /// 2046 allows.
    static func boundary(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else {
                continue
            }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".utf8)
            guard (1...70).contains(value.utf8.count), value.utf8.allSatisfy(allowed.contains), value.last != " "
            else { return nil }
            return value
        }
        return nil
    }

    /// The one part named `photo` of a form whose delimiter is `delimiter` (`--boundary`).
    private static func photoPart(of body: [UInt8], boundary delimiter: [UInt8]) -> Result<PhotoUpload, Failure> {
        // The first delimiter starts the body or a line after a preamble; every later one follows CRLF.
        let first: Int
        if body.starts(with: delimiter) {
            first = 0
        } else if let afterPreamble = find([0x0D, 0x0A] + delimiter, in: body, from: 0) {
            first = afterPreamble + 2
        } else {
            return .failure(.malformed("the form has no part with its boundary"))
        }
        let separator = [0x0D, 0x0A] + delimiter
        var position = first + delimiter.count
        var photo: PhotoUpload?
        var parts = 0
        while true {
            // After a delimiter: `--` ends the form, CRLF starts a part (transport padding allowed).
            if body[position...].starts(with: [0x2D, 0x2D]) { break }
            while position < body.count, body[position] == 0x20 || body[position] == 0x09 { position += 1 }
            guard body[position...].starts(with: [0x0D, 0x0A]) else {
                return .failure(.malformed("the form's boundary is not followed by a line break"))
            }
            position += 2
            parts += 1
            guard parts <= maxParts else { return .failure(.malformed("the form has more than \(maxParts) parts")) }
            guard
                let headerEnd = find(
                    [0x0D, 0x0A, 0x0D, 0x0A], in: body, from: position, within: maxPartHeaderBytes + 4)
            else {
                return .failure(
                    .malformed("a part's headers are missing, unfinished or longer than \(maxPartHeaderBytes) bytes"))
            }
            let headers = PartHeaders(String(decoding: body[position..<headerEnd], as: UTF8.self))
            let contentStart = headerEnd + 4
            guard let contentEnd = find(separator, in: body, from: contentStart) else {
                return .failure(.malformed("the form ends without its closing boundary"))
            }
            if headers.name == "photo" {
                guard photo == nil else { return .failure(.malformed("the form has more than one photo part")) }
                guard contentEnd > contentStart else { return .failure(.malformed("the photo is empty")) }
                guard contentEnd - contentStart <= PhotoLimits.maxUploadBytes else { return .failure(.tooLarge) }
                // Only an image type is passed on as claimed; media reads the type from the bytes anyway.
                let claimed = headers.contentType.map(mediaType(of:)).flatMap { imageTypes.contains($0) ? $0 : nil }
                photo = PhotoUpload(
                    bytes: Array(body[contentStart..<contentEnd]), claimedType: claimed ?? "application/octet-stream")
            }
            position = contentEnd + separator.count
            guard position <= body.count else { return .failure(.malformed("the form ends inside a boundary")) }
        }
        guard let photo else { return .failure(.malformed("the form has no part named photo")) }
        return .success(photo)
    }

    /// Where `needle` first starts in `haystack` at or after `start` (and, with `within`,
    /// ending within that many bytes of it).
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int, within: Int? = nil) -> Int? {
        guard let firstByte = needle.first, needle.count <= haystack.count else { return nil }
        let limit = min(haystack.count - needle.count, within.map { start + $0 - needle.count } ?? Int.max)
        guard start <= limit else { return nil }
        return haystack.withUnsafeBufferPointer { bytes -> Int? in
            var index = start
            while index <= limit {
                // memchr-like skip to the next candidate, then compare the rest.
                guard bytes[index] == firstByte else {
                    index += 1
                    continue
                }
                var matched = 1
                while matched < needle.count, bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
                index += 1
            }
            return nil
        }
    }
}

/// The headers of one form part that an upload reads: the `name` of
/// `Content-Disposition: form-data; name="…"` and the `Content-Type`.
private struct PartHeaders {
    var name: String?
    var contentType: String?

    init(_ text: String) {
        for line in text.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch pair[0].trimmingCharacters(in: .whitespaces).lowercased() {
            case "content-disposition":
                let parameters = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parameters.first?.lowercased() == "form-data" else { continue }
                for parameter in parameters.dropFirst() {
                    let nameValue = parameter.split(separator: "=", maxSplits: 1)
                    guard nameValue.count == 2, nameValue[0].lowercased() == "name" else { continue }
                    var name = String(nameValue[1])
                    if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                        name = String(name.dropFirst().dropLast())
                    }
                    self.name = name
                }
            case "content-type":
                contentType = value
            default:
                continue
            }
        }
    }
}
