import Foundation

/// Images made by the tests, for the suites that cannot link the codecs (end to end, the
/// benchmarks): a PNG written by hand, its pixels stored without compression.
public enum TestImages {
    /// An RGB PNG of `width`×`height`: a grid of 9×8 blocks whose brightness `seed` picks
    /// (so that photos of different seeds have different perceptual hashes), optionally
    /// with a `tEXt` chunk carrying `text` (metadata the stored variants must not keep).
    public static func png(
        width: Int = 400, height: Int = 400, seed: UInt64 = .random(in: 0...UInt64.max), text: String? = nil
    )
        -> [UInt8]
    {
        var generator = SplitMix(seed: seed)
        let levels = (0..<72).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var raw: [UInt8] = []
        raw.reserveCapacity((width * 3 + 1) * height)
        for y in 0..<height {
            raw.append(0)  // filter: none
            let row = min(7, y * 8 / height)
            for x in 0..<width {
                let level = levels[row * 9 + min(8, x * 9 / width)]
                raw += [level, level, level]
            }
        }
        var header: [UInt8] = []
        header += PNGWriter.bigEndian(UInt32(width)) + PNGWriter.bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8 bits, RGB, deflate, adaptive filtering, no interlace
        var png = PNGWriter.signature
        png += PNGWriter.chunk("IHDR", header)
        if let text { png += PNGWriter.chunk("tEXt", Array("Comment".utf8) + [0] + Array(text.utf8)) }
        png += PNGWriter.chunk("IDAT", PNGWriter.zlibStored(raw))
        png += PNGWriter.chunk("IEND", [])
        return png
    }
}

/// The pieces of a PNG file, for the tests that write one by hand.
public enum PNGWriter {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A chunk: length, type, data, CRC.
    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
    }

    /// A zlib stream of stored (uncompressed) deflate blocks.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let final: UInt8 = offset + length == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[offset..<offset + length]
            offset += length
        } while offset < data.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return out + bigEndian(b << 16 | a)
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }

    public static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}

/// SplitMix64: a seeded generator, the same numbers for the same seed on every machine.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
