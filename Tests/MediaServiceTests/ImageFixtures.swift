import CWebP
import Foundation
import TestSupport

@testable import MediaService

/// Images the tests make themselves, with what a phone or an attacker puts in them.
enum ImageFixtures {
    /// A picture whose top-left quarter is red and the rest dark blue, so that a turn or a
    /// flip shows; with a soft gradient, so that it compresses like a photo.
    static func pixels(width: Int, height: Int, seed: Int = 0) -> PixelImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let at = (y * width + x) * 3
                if x < width / 2 && y < height / 2 {
                    pixels[at] = 220
                    pixels[at + 1] = 30
                    pixels[at + 2] = 30
                } else {
                    pixels[at] = UInt8((x * 40 / width + seed * 37) % 256)
                    pixels[at + 1] = UInt8((y * 60 / height + seed * 11) % 256)
                    pixels[at + 2] = 140
                }
            }
        }
        return PixelImage(width: width, height: height, pixels: pixels)
    }

    static func jpeg(width: Int = 640, height: Int = 480, seed: Int = 0, quality: Int32 = 90) -> [UInt8] {
        Codecs.encodeJPEG(pixels(width: width, height: height, seed: seed), quality: quality) ?? []
    }

    /// A JPEG as a phone writes it: EXIF with an orientation and GPS position, XMP with the
    /// same, an ICC profile with a description, and a comment, all after SOI.
    static func phoneJPEG(width: Int = 640, height: Int = 480, orientation: UInt16 = 6) -> [UInt8] {
        let plain = jpeg(width: width, height: height)
        var out: [UInt8] = [0xFF, 0xD8]
        out += segment(0xE1, Array("Exif".utf8) + [0, 0] + exif(orientation: orientation))
        out += segment(
            0xE1,
            Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]
                + Array("<x:xmpmeta><exif:GPSLatitude>48,51.396N</exif:GPSLatitude></x:xmpmeta>".utf8))
        out += segment(0xE2, Array("ICC_PROFILE".utf8) + [0, 1, 1] + Array("desc: Ada's phone at home".utf8))
        out += segment(0xFE, Array("secret comment: 12 Rue de Rivoli".utf8))
        out += plain.dropFirst(2)
        return out
    }

    static func segment(_ marker: UInt8, _ body: [UInt8]) -> [UInt8] {
        let length = body.count + 2
        return [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + body
    }

    /// A little-endian TIFF with IFD0 (orientation, GPS IFD pointer) and a GPS IFD
    /// (latitude N 48° 51' 23.76").
    static func exif(orientation: UInt16) -> [UInt8] {
        var tiff: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0]
        func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
        // IFD0 at 8: 2 entries (12 bytes each) + next-IFD offset = 2 + 24 + 4 = 30 → GPS IFD at 38.
        tiff += u16(2)
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)
        tiff += u16(0x8825) + u16(4) + u32(1) + u32(38)
        tiff += u32(0)
        // GPS IFD at 38: 2 entries + next = 30 bytes → the rationals at 68.
        tiff += u16(2)
        tiff += u16(0x0001) + u16(2) + u32(2) + Array("N".utf8) + [0, 0, 0]
        tiff += u16(0x0002) + u16(5) + u32(3) + u32(68)
        tiff += u32(0)
        tiff += u32(48) + u32(1) + u32(51) + u32(1) + u32(2376) + u32(100)
        return tiff
    }

    /// A PNG made by hand (stored deflate blocks), with a text chunk and an EXIF chunk.
    static func png(width: Int = 400, height: Int = 400, text: String = "Location: 12 Rue de Rivoli") -> [UInt8] {
        let image = pixels(width: width, height: height)
        var raw: [UInt8] = []
        raw.reserveCapacity((width * 3 + 1) * height)
        for y in 0..<height {
            raw.append(0)  // filter: none
            raw += image.pixels[(y * width * 3)..<((y + 1) * width * 3)]
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0])
        out += chunk("tEXt", Array("Comment".utf8) + [0] + Array(text.utf8))
        out += chunk("eXIf", exif(orientation: 1))
        out += chunk("IDAT", zlibStored(raw))
        out += chunk("IEND", [])
        return out
    }

    /// A PNG whose header claims `width × height`, with a few bytes of data: a bomb.
    static func pngClaiming(width: Int, height: Int) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0])
        out += chunk("IDAT", zlibStored([0, 0, 0, 0]))
        out += chunk("IEND", [])
        return out
    }

    /// A JPEG whose frame header claims `width × height`.
    static func jpegClaiming(width: Int, height: Int) -> [UInt8] {
        var bytes = jpeg(width: 320, height: 320)
        // The SOF0 segment: FF C0, length, precision, height, width.
        if let at = (0..<(bytes.count - 9)).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }) {
            bytes[at + 5] = UInt8(height >> 8)
            bytes[at + 6] = UInt8(height & 0xFF)
            bytes[at + 7] = UInt8(width >> 8)
            bytes[at + 8] = UInt8(width & 0xFF)
        }
        return bytes
    }

    static func webp(width: Int = 500, height: Int = 400) -> [UInt8] {
        let image = pixels(width: width, height: height)
        var output: UnsafeMutablePointer<UInt8>?
        let size = image.pixels.withUnsafeBufferPointer { source in
            WebPEncodeRGB(source.baseAddress, Int32(width), Int32(height), Int32(width * 3), 80, &output)
        }
        defer { WebPFree(output) }
        guard let output, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    /// The smallest ZIP with one stored file: local header, data, central directory, end record.
    static let zip: [UInt8] = {
        let name = Array("payload.js".utf8)
        let data = Array("alert(1)".utf8)
        let crc = crc32(data)
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
        var local: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + u16(10) + u16(0) + u16(0) + u16(0) + u16(0)
        local += u32(crc) + u32(UInt32(data.count)) + u32(UInt32(data.count)) + u16(name.count) + u16(0) + name + data
        var central: [UInt8] = [0x50, 0x4B, 0x01, 0x02] + u16(20) + u16(10) + u16(0) + u16(0) + u16(0) + u16(0)
        central += u32(crc) + u32(UInt32(data.count)) + u32(UInt32(data.count)) + u16(name.count)
        central += u16(0) + u16(0) + u16(0) + u16(0) + u32(0) + u32(0) + name
        let end: [UInt8] =
            [0x50, 0x4B, 0x05, 0x06] + u16(0) + u16(0) + u16(1) + u16(1) + u32(UInt32(central.count))
            + u32(UInt32(local.count)) + u16(0)
        return local + central + end
    }()

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] { PNGWriter.chunk(type, data) }
    static func bigEndian(_ value: UInt32) -> [UInt8] { PNGWriter.bigEndian(value) }
    static func zlibStored(_ data: [UInt8]) -> [UInt8] { PNGWriter.zlibStored(data) }
    static func crc32(_ data: [UInt8]) -> UInt32 { PNGWriter.crc32(data) }

    /// The markers of a JPEG up to its image data, e.g. [0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDA].
    static func markers(_ jpeg: [UInt8]) -> [UInt8] {
        var found: [UInt8] = [0xD8]
        var index = 2
        while index + 3 < jpeg.count, jpeg[index] == 0xFF {
            let marker = jpeg[index + 1]
            found.append(marker)
            if marker == 0xDA { break }
            index += 2 + (Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3]))
        }
        return found
    }
}
