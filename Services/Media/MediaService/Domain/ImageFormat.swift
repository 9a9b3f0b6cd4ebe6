import Foundation

/// The image types a photo may be, told from its bytes alone.
public enum ImageType: String, Sendable, Equatable, CaseIterable {
    case jpeg, png, webp

    /// The media type the variants of this type are served as.
    public var mediaType: String { "image/\(rawValue)" }
}

/// Why an upload is not a photo the service takes. `reason` is what the owner is told.
public struct PhotoRejection: Error, Sendable, Equatable {
    public enum Code: String, Sendable, Equatable {
        case unsupportedType = "unsupported-type"
        case corrupt
        case tooSmall = "too-small"
        case tooLarge = "too-large"
        case polyglot
        case blocked
        /// Rejected by a moderator, not by a check.
        case moderator
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// What the headers of an image say, read before anything is decoded.
public struct ImageHeader: Sendable, Equatable {
    public var type: ImageType
    public var width: Int
    public var height: Int
    /// EXIF orientation 1…8 (JPEG only; 1 when absent or unreadable).
    public var orientation: Int
}

/// Reads an image's type and dimensions from its bytes, as an attacker would write them:
/// every length is checked against what is left, nothing is decoded, and a file that is
/// also something else (bytes after the image's end: a ZIP, a script) is refused.
public enum ImageFormat {
    public static func inspect(_ bytes: [UInt8]) -> Result<ImageHeader, PhotoRejection> {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return JPEGHeader.read(bytes) }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return PNGHeader.read(bytes) }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return WebPHeader.read(bytes)
        }
        return .failure(PhotoRejection(.unsupportedType, "not a JPEG, PNG or WebP image (\(describe(bytes)))"))
    }

    /// A name for what the bytes look like, for the rejection's reason.
    static func describe(_ bytes: [UInt8]) -> String {
        let prefix = Array(bytes.prefix(16))
        if prefix.starts(with: Array("GIF8".utf8)) { return "a GIF" }
        if prefix.starts(with: Array("%PDF".utf8)) { return "a PDF" }
        if prefix.count >= 12, Array(prefix[4..<8]) == Array("ftyp".utf8) {
            let brand = String(decoding: prefix[8..<12], as: UTF8.self)
            return ["heic", "heix", "mif1", "hevc", "avif"].contains(brand) ? "a HEIF/AVIF image" : "an ISO media file"
        }
        let text = String(decoding: bytes.prefix(512), as: UTF8.self).lowercased()
        if text.contains("<svg") || text.hasPrefix("<?xml") { return "an SVG or XML document" }
        if prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "a ZIP archive" }
        if bytes.isEmpty { return "empty" }
        return "unknown content"
    }

    /// Whether an image that ends at `end` is also something else: a ZIP (whose reader
    /// finds its directory from the end, whatever comes first), or bytes after the image
    /// that begin another format or a script. Other trailing bytes (cameras append their
    /// own) are no second file; re-encoding drops them either way.
    static func isPolyglot(_ bytes: [UInt8], imageEnd end: Int) -> Bool {
        if containsZipDirectory(bytes) { return true }
        guard end < bytes.count else { return false }
        let trailing = Array(bytes[end...].prefix(4096))
        let magics: [[UInt8]] = [
            [0x50, 0x4B, 0x03, 0x04], Array("%PDF".utf8), Array("GIF8".utf8), [0x89, 0x50, 0x4E, 0x47],
            Array("RIFF".utf8), [0xFF, 0xD8, 0xFF], [0x7F, 0x45, 0x4C, 0x46], Array("#!".utf8),
        ]
        let start = Array(trailing.drop { $0 == 0 || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D })
        if magics.contains(where: { start.starts(with: $0) }) { return true }
        let text = String(decoding: trailing, as: UTF8.self).lowercased()
        return ["<script", "<?php", "<html", "<svg", "<?xml"].contains { text.contains($0) }
    }

    /// Whether a ZIP's end-of-central-directory record is anywhere in the bytes: a ZIP
    /// reader finds it from the end, whatever comes first.
    static func containsZipDirectory(_ bytes: [UInt8]) -> Bool {
        let signature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
        guard bytes.count >= 22 else { return false }
        var index = bytes.count - 22
        let stop = max(0, bytes.count - 22 - 65_535)
        while index >= stop {
            if bytes[index] == signature[0], bytes[index + 1] == signature[1], bytes[index + 2] == signature[2],
                bytes[index + 3] == signature[3]
            {
                return true
            }
            index -= 1
        }
        return false
    }
}

/// Big-endian and little-endian reads that say nil rather than read past the end.
struct ByteReader {
    let bytes: [UInt8]

    func u8(_ at: Int) -> Int? { at >= 0 && at < bytes.count ? Int(bytes[at]) : nil }

    func u16(_ at: Int, bigEndian: Bool = true) -> Int? {
        guard let a = u8(at), let b = u8(at + 1) else { return nil }
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func u24le(_ at: Int) -> Int? {
        guard let a = u8(at), let b = u8(at + 1), let c = u8(at + 2) else { return nil }
        return a | b << 8 | c << 16
    }

    func u32(_ at: Int, bigEndian: Bool = true) -> Int? {
        guard let high = u16(at, bigEndian: bigEndian), let low = u16(at + 2, bigEndian: bigEndian) else {
            return nil
        }
        return bigEndian ? high << 16 | low : low << 16 | high
    }
}

/// JPEG: the markers up to the frame header (SOFn) for the size, APP1 Exif for the
/// orientation, then every segment and the entropy-coded data up to EOI, after which
/// nothing may follow.
enum JPEGHeader {
    static func read(_ bytes: [UInt8]) -> Result<ImageHeader, PhotoRejection> {
        let reader = ByteReader(bytes: bytes)
        var index = 2
        var size: (width: Int, height: Int)?
        var orientation = 1
        while true {
            // Markers may be padded with 0xFF bytes.
            guard let first = reader.u8(index), first == 0xFF else {
                return .failure(PhotoRejection(.corrupt, "the JPEG's markers are broken"))
            }
            var markerIndex = index + 1
            while reader.u8(markerIndex) == 0xFF { markerIndex += 1 }
            guard let marker = reader.u8(markerIndex) else {
                return .failure(PhotoRejection(.corrupt, "the JPEG ends before its image data"))
            }
            index = markerIndex + 1
            switch marker {
            case 0xD8, 0x01, 0xD0...0xD7:
                continue  // standalone markers
            case 0xD9:
                return .failure(PhotoRejection(.corrupt, "the JPEG ends before its image data"))
            default:
                break
            }
            guard let length = reader.u16(index), length >= 2, index + length <= bytes.count else {
                return .failure(PhotoRejection(.corrupt, "a JPEG segment runs past the end of the file"))
            }
            let body = index + 2
            switch marker {
            case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                guard let height = reader.u16(body + 1), let width = reader.u16(body + 3), width > 0, height > 0
                else { return .failure(PhotoRejection(.corrupt, "the JPEG's frame header has no size")) }
                size = (width, height)
            case 0xE1:
                if let found = ExifOrientation.read(Array(bytes[body..<(index + length)])) { orientation = found }
            case 0xDA:
                guard let size else {
                    return .failure(PhotoRejection(.corrupt, "the JPEG's image data comes before its frame header"))
                }
                guard let end = endOfImage(bytes, from: index + length) else {
                    return .failure(PhotoRejection(.corrupt, "the JPEG is truncated: it has no end marker"))
                }
                if ImageFormat.isPolyglot(bytes, imageEnd: end) {
                    return .failure(PhotoRejection(.polyglot, "the file is a JPEG and something else"))
                }
                return .success(
                    ImageHeader(type: .jpeg, width: size.width, height: size.height, orientation: orientation))
            default:
                break
            }
            index += length
        }
    }

    /// The index just past the EOI marker that ends the image, skipping the entropy-coded
    /// data (where 0xFF is followed by 0x00 or a restart marker) and any further scans.
    static func endOfImage(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            guard bytes[index] == 0xFF else {
                index += 1
                continue
            }
            let next = bytes[index + 1]
            switch next {
            case 0x00, 0xFF, 0xD0...0xD7:
                index += next == 0xFF ? 1 : 2
            case 0xD9:
                return index + 2
            default:
                // Another segment (a progressive JPEG's next table or scan): skip it.
                guard index + 3 < bytes.count else { return nil }
                let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
                guard length >= 2 else { return nil }
                index += 2 + length
            }
        }
        return nil
    }
}

/// PNG: the IHDR must come first; every chunk's length must fit; IEND must end the file.
enum PNGHeader {
    static func read(_ bytes: [UInt8]) -> Result<ImageHeader, PhotoRejection> {
        let reader = ByteReader(bytes: bytes)
        guard let length = reader.u32(8), length == 13, Array(bytes[12..<min(16, bytes.count)]) == Array("IHDR".utf8),
            let width = reader.u32(16), let height = reader.u32(20), width > 0, height > 0
        else { return .failure(PhotoRejection(.corrupt, "the PNG has no valid header")) }
        var index = 8
        while true {
            guard let chunkLength = reader.u32(index), index + 12 + chunkLength <= bytes.count else {
                return .failure(PhotoRejection(.corrupt, "the PNG is truncated"))
            }
            let type = Array(bytes[(index + 4)..<(index + 8)])
            index += 12 + chunkLength
            if type == Array("IEND".utf8) {
                if ImageFormat.isPolyglot(bytes, imageEnd: index) {
                    return .failure(PhotoRejection(.polyglot, "the file is a PNG and something else"))
                }
                return .success(ImageHeader(type: .png, width: width, height: height, orientation: 1))
            }
        }
    }
}

/// WebP: the RIFF size must be the file's; the size comes from the VP8, VP8L or VP8X chunk.
enum WebPHeader {
    static func read(_ bytes: [UInt8]) -> Result<ImageHeader, PhotoRejection> {
        let reader = ByteReader(bytes: bytes)
        guard let riffSize = reader.u32(4, bigEndian: false) else {
            return .failure(PhotoRejection(.corrupt, "the WebP is truncated"))
        }
        if ImageFormat.isPolyglot(bytes, imageEnd: min(bytes.count, riffSize + 8)) {
            return .failure(PhotoRejection(.polyglot, "the file is a WebP and something else"))
        }
        guard riffSize + 8 <= bytes.count, bytes.count >= 30 else {
            return .failure(PhotoRejection(.corrupt, "the WebP is truncated"))
        }
        let chunk = String(decoding: bytes[12..<16], as: UTF8.self)
        let size: (Int, Int)?
        switch chunk {
        case "VP8 ":
            // A key frame: 3 bytes of frame tag, the start code 9D 01 2A, then 14-bit sizes.
            guard bytes[23] == 0x9D, bytes[24] == 0x01, bytes[25] == 0x2A, let w = reader.u16(26, bigEndian: false),
                let h = reader.u16(28, bigEndian: false)
            else { return .failure(PhotoRejection(.corrupt, "the WebP's frame header is broken")) }
            size = (w & 0x3FFF, h & 0x3FFF)
        case "VP8L":
            guard reader.u8(20) == 0x2F, let b0 = reader.u8(21), let b1 = reader.u8(22), let b2 = reader.u8(23),
                let b3 = reader.u8(24)
            else { return .failure(PhotoRejection(.corrupt, "the WebP's lossless header is broken")) }
            size = (1 + (b0 | (b1 & 0x3F) << 8), 1 + (b1 >> 6 | b2 << 2 | (b3 & 0x0F) << 10))
        case "VP8X":
            guard let w = reader.u24le(24), let h = reader.u24le(27) else {
                return .failure(PhotoRejection(.corrupt, "the WebP's extended header is broken"))
            }
            if let flags = reader.u8(20), flags & 0x02 != 0 {
                return .failure(PhotoRejection(.unsupportedType, "an animated WebP is not a photo"))
            }
            size = (w + 1, h + 1)
        default:
            size = nil
        }
        guard let (width, height) = size, width > 0, height > 0 else {
            return .failure(PhotoRejection(.corrupt, "the WebP has no image"))
        }
        return .success(ImageHeader(type: .webp, width: width, height: height, orientation: 1))
    }
}

/// The orientation tag (0x0112) of an APP1 Exif segment's first IFD.
enum ExifOrientation {
    static func read(_ segment: [UInt8]) -> Int? {
        guard segment.count > 14, segment.starts(with: Array("Exif".utf8) + [0, 0]) else { return nil }
        let tiff = Array(segment[6...])
        let reader = ByteReader(bytes: tiff)
        let little: Bool
        switch (reader.u8(0), reader.u8(1)) {
        case (0x49?, 0x49?): little = true
        case (0x4D?, 0x4D?): little = false
        default: return nil
        }
        guard reader.u16(2, bigEndian: !little) == 42, let ifd = reader.u32(4, bigEndian: !little),
            let count = reader.u16(ifd, bigEndian: !little)
        else { return nil }
        for entry in 0..<min(count, 512) {
            let at = ifd + 2 + entry * 12
            guard let tag = reader.u16(at, bigEndian: !little) else { return nil }
            if tag == 0x0112, let value = reader.u16(at + 8, bigEndian: !little), (1...8).contains(value) {
                return value
            }
        }
        return nil
    }
}
