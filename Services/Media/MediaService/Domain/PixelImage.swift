import Foundation

/// Decoded pixels, 8-bit RGB, row after row: what every photo is turned into before its
/// variants are written, so that nothing of the upload but its pixels survives.
public struct PixelImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGB pixels of \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// RGBA pixels composited over white (a transparent PNG has no background of its own).
    public init(width: Int, height: Int, rgba: [UInt8]) {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgba.withUnsafeBufferPointer { source in
            rgb.withUnsafeMutableBufferPointer { target in
                for pixel in 0..<(width * height) {
                    let alpha = Int(source[pixel * 4 + 3])
                    for channel in 0..<3 {
                        let value = Int(source[pixel * 4 + channel])
                        target[pixel * 3 + channel] = UInt8((value * alpha + 255 * (255 - alpha) + 127) / 255)
                    }
                }
            }
        }
        self.init(width: width, height: height, pixels: rgb)
    }

    /// The image as EXIF orientation `orientation` (1…8) says it is to be shown.
    public func oriented(_ orientation: Int) -> PixelImage {
        guard (2...8).contains(orientation) else { return self }
        // Orientations 5 to 8 swap the axes.
        let swaps = orientation >= 5
        let (outWidth, outHeight) = swaps ? (height, width) : (width, height)
        var out = [UInt8](repeating: 0, count: pixels.count)
        let (w, h) = (width, height)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        // The source pixel shown at (x, y).
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case 2: (sx, sy) = (w - 1 - x, y)
                        case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case 4: (sx, sy) = (x, h - 1 - y)
                        case 5: (sx, sy) = (y, x)
                        case 6: (sx, sy) = (y, h - 1 - x)
                        case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                        default: (sx, sy) = (w - 1 - y, x)  // 8
                        }
                        let from = (sy * w + sx) * 3
                        let to = (y * outWidth + x) * 3
                        target[to] = source[from]
                        target[to + 1] = source[from + 1]
                        target[to + 2] = source[from + 2]
                    }
                }
            }
        }
        return PixelImage(width: outWidth, height: outHeight, pixels: out)
    }

    /// The image scaled so that its longer edge is at most `longestEdge` (never enlarged),
    /// each output pixel the mean of the source pixels it covers (a box filter, which does
    /// not alias when shrinking a lot).
    public func fitting(longestEdge: Int) -> PixelImage {
        let longest = max(width, height)
        guard longest > longestEdge else { return self }
        let scale = Double(longestEdge) / Double(longest)
        let outWidth = max(1, Int((Double(width) * scale).rounded()))
        let outHeight = max(1, Int((Double(height) * scale).rounded()))
        return resized(width: outWidth, height: outHeight)
    }

    /// Box-filtered to exactly `width × height` (smaller than or equal to this image).
    public func resized(width outWidth: Int, height outHeight: Int) -> PixelImage {
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        let (w, h) = (width, height)
        // The source columns of each output column, found once.
        let columns = (0..<outWidth).map { x in (x * w / outWidth, max(x * w / outWidth + 1, (x + 1) * w / outWidth)) }
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                var sums = [Int](repeating: 0, count: outWidth * 3)
                for y in 0..<outHeight {
                    let top = y * h / outHeight
                    let bottom = max(top + 1, (y + 1) * h / outHeight)
                    for index in sums.indices { sums[index] = 0 }
                    for row in top..<bottom {
                        let base = row * w * 3
                        for x in 0..<outWidth {
                            let (left, right) = columns[x]
                            var r = 0
                            var g = 0
                            var b = 0
                            var at = base + left * 3
                            for _ in left..<right {
                                r += Int(source[at])
                                g += Int(source[at + 1])
                                b += Int(source[at + 2])
                                at += 3
                            }
                            sums[x * 3] += r
                            sums[x * 3 + 1] += g
                            sums[x * 3 + 2] += b
                        }
                    }
                    for x in 0..<outWidth {
                        let count = (bottom - top) * (columns[x].1 - columns[x].0)
                        let to = (y * outWidth + x) * 3
                        for channel in 0..<3 {
                            target[to + channel] = UInt8((sums[x * 3 + channel] + count / 2) / count)
                        }
                    }
                }
            }
        }
        return PixelImage(width: outWidth, height: outHeight, pixels: out)
    }

    /// The 64-bit difference hash (dHash): the image in grey at 9×8, one bit per pair of
    /// neighbours in a row, set when the left is brighter. Near copies (recompressed,
    /// resized, slightly retouched) differ in few bits.
    public var differenceHash: UInt64 {
        let small = resized(width: 9, height: 8)
        var hash: UInt64 = 0
        for y in 0..<8 {
            for x in 0..<8 {
                let left = small.luma(x, y)
                let right = small.luma(x + 1, y)
                hash = hash << 1 | (left > right ? 1 : 0)
            }
        }
        return hash
    }

    func luma(_ x: Int, _ y: Int) -> Int {
        let at = (y * width + x) * 3
        return (299 * Int(pixels[at]) + 587 * Int(pixels[at + 1]) + 114 * Int(pixels[at + 2])) / 1000
    }
}

/// How many bits two perceptual hashes differ in.
public func hammingDistance(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }
