import Foundation
import TestSupport
import Testing

@testable import MediaService

@Suite("Photo processing: types from bytes, sizes from headers, nothing but pixels survives")
struct PhotoProcessorTests {
    func processed(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessedPhoto {
        switch PhotoProcessor.process(bytes) {
        case .success(let photo): return photo
        case .failure(let rejection):
            Issue.record("rejected: \(rejection)", sourceLocation: sourceLocation)
            throw rejection
        }
    }

    func rejection(_ bytes: [UInt8]) -> PhotoRejection? {
        guard case .failure(let rejection) = PhotoProcessor.process(bytes) else { return nil }
        return rejection
    }

    /// What a variant must be: a JPEG of pixels only (JFIF, tables, frame, scan), with no
    /// trace of what the upload carried.
    func expectClean(_ variant: PhotoVariant, sourceLocation: SourceLocation = #_sourceLocation) {
        let markers = ImageFixtures.markers(variant.bytes)
        let allowed: Set<UInt8> = [0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDD, 0xDA]
        #expect(
            Set(markers).isSubset(of: allowed), "markers \(markers.map { String($0, radix: 16) })",
            sourceLocation: sourceLocation)
        #expect(markers.filter { $0 == 0xE0 }.count <= 1, sourceLocation: sourceLocation)
        let text = String(decoding: variant.bytes, as: UTF8.self)
        for trace in ["Exif", "GPS", "xmp", "ICC_PROFILE", "secret", "Rivoli", "Comment", "48,51"] {
            #expect(!text.contains(trace), "\(trace) survived", sourceLocation: sourceLocation)
        }
        #expect(Array(variant.bytes.suffix(2)) == [0xFF, 0xD9], sourceLocation: sourceLocation)
    }

    @Test("a phone's JPEG: turned upright, scaled, and stripped of EXIF, GPS, XMP, ICC and comments")
    func phoneJPEG() throws {
        let upload = ImageFixtures.phoneJPEG(width: 640, height: 480, orientation: 6)
        #expect(String(decoding: upload, as: UTF8.self).contains("Rivoli"), "the fixture carries its secrets")
        guard case .success(let header) = ImageFormat.inspect(upload) else {
            Issue.record("the fixture is not read")
            return
        }
        #expect(header == ImageHeader(type: .jpeg, width: 640, height: 480, orientation: 6))
        let photo = try processed(upload)
        #expect(photo.sourceType == .jpeg)
        // Orientation 6 turns it a quarter clockwise: 480 wide, 640 high, the red corner top right.
        #expect(photo.display.width == 480 && photo.display.height == 640)
        #expect(photo.thumbnail.width == 300 && photo.thumbnail.height == 400)
        expectClean(photo.display)
        expectClean(photo.thumbnail)
        guard case .success(let shown) = Codecs.decodeJPEG(photo.display.bytes, atLeast: 10_000) else {
            Issue.record("the display variant does not decode")
            return
        }
        let topRight = (10 * shown.width + shown.width - 10) * 3
        let topLeft = (10 * shown.width + 10) * 3
        #expect(shown.pixels[topRight] > 180 && shown.pixels[topRight + 2] < 80, "red is top right")
        #expect(shown.pixels[topLeft] < 100, "not top left")
    }

    @Test("every orientation is applied: the red corner lands where EXIF says it is shown")
    func orientations() {
        let image = ImageFixtures.pixels(width: 40, height: 20)
        // Where the red top-left quarter is shown: (right half?, bottom half?).
        let expected: [Int: (Bool, Bool)] = [
            1: (false, false), 2: (true, false), 3: (true, true), 4: (false, true), 5: (false, false),
            6: (true, false), 7: (true, true), 8: (false, true),
        ]
        for (orientation, (right, bottom)) in expected {
            let shown = image.oriented(orientation)
            #expect((shown.width, shown.height) == (orientation >= 5 ? (20, 40) : (40, 20)))
            let x = right ? shown.width - 2 : 1
            let y = bottom ? shown.height - 2 : 1
            #expect(shown.pixels[(y * shown.width + x) * 3] == 220, "orientation \(orientation)")
        }
    }

    @Test("a PNG with text and EXIF chunks, and a WebP: re-encoded as clean JPEGs")
    func pngAndWebP() throws {
        let png = ImageFixtures.png(width: 400, height: 400)
        #expect(String(decoding: png, as: UTF8.self).contains("Rivoli"))
        let fromPNG = try processed(png)
        #expect(fromPNG.sourceType == .png && fromPNG.display.width == 400 && fromPNG.thumbnail.width == 400)
        expectClean(fromPNG.display)

        let webp = ImageFixtures.webp(width: 2000, height: 1600)
        let fromWebP = try processed(webp)
        #expect(fromWebP.sourceType == .webp)
        #expect(fromWebP.display.width == 1200 && fromWebP.display.height == 960)
        #expect(fromWebP.thumbnail.width == 400 && fromWebP.thumbnail.height == 320)
        expectClean(fromWebP.display)
    }

    @Test("a large JPEG is decoded reduced and scaled to 1200 and 400 px on the longer edge")
    func scaling() throws {
        let photo = try processed(ImageFixtures.jpeg(width: 4000, height: 3000))
        #expect(photo.display.width == 1200 && photo.display.height == 900)
        #expect(photo.thumbnail.width == 400 && photo.thumbnail.height == 300)
        let small = try processed(ImageFixtures.jpeg(width: 320, height: 500))
        #expect(small.display.width == 320 && small.display.height == 500, "never enlarged")
    }

    @Test("bombs are refused from their headers, before anything is decoded")
    func bombs() {
        #expect(rejection(ImageFixtures.pngClaiming(width: 100_000, height: 100_000))?.code == .tooLarge)
        #expect(rejection(ImageFixtures.jpegClaiming(width: 60_000, height: 60_000))?.code == .tooLarge)
        #expect(rejection(ImageFixtures.pngClaiming(width: 8000, height: 6000))?.code == .tooLarge, "48 megapixels")
        #expect(rejection(ImageFixtures.pngClaiming(width: 8001, height: 320))?.code == .tooLarge)
        #expect(rejection(ImageFixtures.jpeg(width: 319, height: 800))?.code == .tooSmall)
        // A header that lies about a size within the limits: the decoder finds the lie.
        #expect(rejection(ImageFixtures.pngClaiming(width: 4000, height: 4000))?.code == .corrupt)
    }

    @Test("other types, truncated files and polyglots are rejected with a reason")
    func rejections() {
        let jpeg = ImageFixtures.jpeg()
        let cases: [([UInt8], PhotoRejection.Code, String)] = [
            (Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 64), .unsupportedType, "GIF"),
            (Array("%PDF-1.7\n".utf8) + [UInt8](repeating: 0x20, count: 64), .unsupportedType, "PDF"),
            (Array(#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#.utf8), .unsupportedType, "SVG"),
            ([0, 0, 0, 0x18] + Array("ftypheic".utf8) + [UInt8](repeating: 0, count: 32), .unsupportedType, "HEIC"),
            ([], .unsupportedType, "empty"),
            (Array(jpeg.prefix(jpeg.count / 2)), .corrupt, "truncated JPEG"),
            (Array(jpeg.prefix(200)), .corrupt, "a JPEG cut inside its headers"),
            (jpeg + ImageFixtures.zip, .polyglot, "JPEG/ZIP polyglot"),
            (ImageFixtures.png() + ImageFixtures.zip, .polyglot, "PNG/ZIP polyglot"),
            (jpeg + Array("<script>alert(1)</script>".utf8), .polyglot, "JPEG with a script after it"),
            (Array(ImageFixtures.png().prefix(600)), .corrupt, "truncated PNG"),
        ]
        for (bytes, code, what) in cases {
            let found = rejection(bytes)
            #expect(found?.code == code, "\(what): \(String(describing: found))")
            #expect(found?.reason.isEmpty == false)
        }
        // A camera's own trailer after EOI is not a second file.
        #expect(rejection(jpeg + [UInt8](repeating: 0, count: 32) + Array("SEFT".utf8)) == nil)
    }

    @Test("near copies share a difference hash; different pictures do not")
    func differenceHashes() throws {
        let original = try processed(ImageFixtures.jpeg(width: 1600, height: 1200, seed: 1, quality: 95))
        let recompressed = try processed(ImageFixtures.jpeg(width: 1000, height: 750, seed: 1, quality: 60))
        #expect(hammingDistance(original.differenceHash, recompressed.differenceHash) <= PhotoRules.blockedHashDistance)
        var other = ImageFixtures.pixels(width: 800, height: 600, seed: 1).oriented(3)
        other = other.oriented(6)
        let different = try processed(Codecs.encodeJPEG(other) ?? [])
        #expect(hammingDistance(original.differenceHash, different.differenceHash) > PhotoRules.blockedHashDistance)
        #expect(
            try processed(ImageFixtures.jpeg(seed: 1)).differenceHash
                == (try processed(ImageFixtures.jpeg(seed: 1))).differenceHash)
    }

    @Test("random and mutated images never crash the processor")
    func fuzz() {
        var random = SplitMix64(state: 2026)
        let seeds = [ImageFixtures.jpeg(), ImageFixtures.phoneJPEG(), ImageFixtures.png(), ImageFixtures.webp()]
        var outcomes: [String: Int] = [:]
        for round in 0..<400 {
            var bytes = seeds[round % seeds.count]
            switch round % 4 {
            case 0:
                for _ in 0..<Int.random(in: 1...20, using: &random) {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[at] = UInt8.random(in: 0...255, using: &random)
                }
            case 1:
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            case 2:
                let at = Int.random(in: 0..<bytes.count, using: &random)
                bytes.insert(
                    contentsOf: (0..<Int.random(in: 1...64, using: &random)).map { _ in
                        UInt8.random(in: 0...255, using: &random)
                    }, at: at)
            default:
                bytes =
                    Array(bytes.prefix(12))
                    + (0..<Int.random(in: 0...4096, using: &random)).map { _ in
                        UInt8.random(in: 0...255, using: &random)
                    }
            }
            switch PhotoProcessor.process(bytes) {
            case .success(let photo):
                outcomes["accepted", default: 0] += 1
                expectClean(photo.display)
            case .failure(let rejection): outcomes[rejection.code.rawValue, default: 0] += 1
            }
        }
        #expect(outcomes.values.reduce(0, +) == 400)
        #expect(outcomes.keys.count >= 3, "\(outcomes)")
    }
}
