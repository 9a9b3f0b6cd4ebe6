import CSpng
import CTurboJPEG
import CWebP
import Foundation

/// The C codecs, each behind one function: JPEG with libturbojpeg, PNG with libspng, WebP
/// with libwebp. Each is called only after `ImageFormat.inspect` checked the headers and
/// the size limits, and each refuses, with a reason, what the library refuses.
enum Codecs {
    /// Decodes a JPEG to RGB, reduced by the largest of libjpeg's DCT scaling factors that
    /// keeps the longer edge at least `atLeast` (decoding at 1/2 or 1/4 is several times
    /// faster, and the box filter would throw those pixels away anyway).
    static func decodeJPEG(_ bytes: [UInt8], atLeast longestEdge: Int) -> Result<PixelImage, PhotoRejection> {
        guard let handle = tjInitDecompress() else { return .failure(PhotoRejection(.corrupt, "no JPEG decoder")) }
        defer { tjDestroy(handle) }
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let size = UInt(bytes.count)
        guard tjDecompressHeader3(handle, bytes, size, &width, &height, &subsampling, &colorspace) == 0 else {
            return .failure(PhotoRejection(.corrupt, "the JPEG cannot be read: \(error(handle))"))
        }
        let (scaledWidth, scaledHeight) = scaled(width: Int(width), height: Int(height), atLeast: longestEdge)
        var pixels = [UInt8](repeating: 0, count: scaledWidth * scaledHeight * 3)
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
        let status = pixels.withUnsafeMutableBufferPointer { target in
            tjDecompress2(
                handle, bytes, size, target.baseAddress, Int32(scaledWidth), 0, Int32(scaledHeight),
                Int32(TJPF_RGB.rawValue), flags)
        }
        guard status == 0 else { return .failure(PhotoRejection(.corrupt, "the JPEG is damaged: \(error(handle))")) }
        return .success(PixelImage(width: scaledWidth, height: scaledHeight, pixels: pixels))
    }

    private static func scaled(width: Int, height: Int, atLeast longestEdge: Int) -> (Int, Int) {
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count) else { return (width, height) }
        var best = (width, height)
        for index in 0..<Int(count) {
            let factor = factors[index]
            let (num, denom) = (Int(factor.num), Int(factor.denom))
            guard num <= denom else { continue }  // never enlarge
            let w = (width * num + denom - 1) / denom
            let h = (height * num + denom - 1) / denom
            if max(w, h) >= min(longestEdge, max(width, height)), w * h < best.0 * best.1 { best = (w, h) }
        }
        return best
    }

    private static func error(_ handle: tjhandle) -> String {
        tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
    }

    /// Encodes RGB as a baseline JPEG (4:2:0): a JFIF header, tables and the image, and
    /// nothing else: no EXIF, XMP, ICC profile or comment is ever written.
    static func encodeJPEG(_ image: PixelImage, quality: Int32 = 85) -> [UInt8]? {
        guard let handle = tjInitCompress() else { return nil }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { source in
            tjCompress2(
                handle, source.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                &output, &size, Int32(TJSAMP_420.rawValue), quality, TJFLAG_ACCURATEDCT)
        }
        defer { tjFree(output) }
        guard status == 0, let output else { return nil }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    /// Decodes a PNG to RGBA (16-bit and palette images converted, transparency applied),
    /// with libspng's own limits on the size and on ancillary chunks as a second guard.
    static func decodePNG(_ bytes: [UInt8], limit: Int) -> Result<PixelImage, PhotoRejection> {
        guard let context = spng_ctx_new(0) else { return .failure(PhotoRejection(.corrupt, "no PNG decoder")) }
        defer { spng_ctx_free(context) }
        spng_set_image_limits(context, UInt32(limit), UInt32(limit))
        // Text and other ancillary chunks are dropped anyway: 1 MB each, 8 MB in all at most.
        spng_set_chunk_limits(context, 1 << 20, 8 << 20)
        let decoded: Result<PixelImage, PhotoRejection> = bytes.withUnsafeBufferPointer { source in
            var status = spng_set_png_buffer(context, source.baseAddress, source.count)
            var header = spng_ihdr()
            if status == 0 { status = spng_get_ihdr(context, &header) }
            var length = 0
            if status == 0 { status = spng_decoded_image_size(context, Int32(SPNG_FMT_RGBA8.rawValue), &length) }
            guard status == 0, length == Int(header.width) * Int(header.height) * 4 else {
                return .failure(PhotoRejection(.corrupt, "the PNG cannot be read: \(message(status))"))
            }
            var rgba = [UInt8](repeating: 0, count: length)
            status = rgba.withUnsafeMutableBytes { target in
                spng_decode_image(
                    context, target.baseAddress, length, Int32(SPNG_FMT_RGBA8.rawValue),
                    Int32(SPNG_DECODE_TRNS.rawValue))
            }
            guard status == 0 else {
                return .failure(PhotoRejection(.corrupt, "the PNG is damaged: \(message(status))"))
            }
            return .success(PixelImage(width: Int(header.width), height: Int(header.height), rgba: rgba))
        }
        return decoded
    }

    private static func message(_ status: Int32) -> String {
        spng_strerror(status).map { String(cString: $0) } ?? "error \(status)"
    }

    /// Decodes a still WebP to RGBA.
    static func decodeWebP(_ bytes: [UInt8]) -> Result<PixelImage, PhotoRejection> {
        var width: Int32 = 0
        var height: Int32 = 0
        guard let decoded = WebPDecodeRGBA(bytes, bytes.count, &width, &height), width > 0, height > 0 else {
            return .failure(PhotoRejection(.corrupt, "the WebP is damaged"))
        }
        defer { WebPFree(decoded) }
        let rgba = Array(UnsafeBufferPointer(start: decoded, count: Int(width) * Int(height) * 4))
        return .success(PixelImage(width: Int(width), height: Int(height), rgba: rgba))
    }
}
