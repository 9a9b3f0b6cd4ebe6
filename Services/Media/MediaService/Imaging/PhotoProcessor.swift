import Contracts
import Foundation

/// One stored variant of a photo: a JPEG written from pixels alone.
public struct PhotoVariant: Sendable, Equatable {
    public var bytes: [UInt8]
    public var width: Int
    public var height: Int
}

/// What processing an upload gives: the two variants, and the hash that finds near copies
/// (exact copies are found by the upload's SHA-256, when it is taken).
public struct ProcessedPhoto: Sendable, Equatable {
    public var sourceType: ImageType
    public var display: PhotoVariant
    public var thumbnail: PhotoVariant
    /// dHash of the oriented pixels: near copies.
    public var differenceHash: UInt64
}

/// Turns an upload into the variants that are stored and served: the type from the bytes,
/// the size from the headers (refused before anything is decoded), then decode, apply the
/// EXIF orientation, scale and encode again. Only pixels cross from the upload to a
/// variant, so no EXIF, GPS, XMP, IPTC, ICC profile, comment, text chunk or thumbnail
/// survives.
public enum PhotoProcessor {
    public static func process(_ upload: [UInt8]) -> Result<ProcessedPhoto, PhotoRejection> {
        guard upload.count <= PhotoLimits.maxUploadBytes else {
            return .failure(PhotoRejection(.tooLarge, "larger than \(PhotoLimits.maxUploadBytes / 1_048_576) MB"))
        }
        let header: ImageHeader
        switch ImageFormat.inspect(upload) {
        case .failure(let rejection): return .failure(rejection)
        case .success(let found): header = found
        }
        if let rejection = PhotoRules.check(width: header.width, height: header.height) { return .failure(rejection) }
        let decoded: Result<PixelImage, PhotoRejection> =
            switch header.type {
            case .jpeg: Codecs.decodeJPEG(upload, atLeast: PhotoRules.displayEdge)
            case .png: Codecs.decodePNG(upload, limit: PhotoRules.maxSide)
            case .webp: Codecs.decodeWebP(upload)
            }
        let pixels: PixelImage
        switch decoded {
        case .failure(let rejection): return .failure(rejection)
        case .success(let image): pixels = image
        }
        // A decoder that found another size than the header said: the file lies somewhere.
        let reduced = header.type == .jpeg && pixels.width <= header.width && pixels.height <= header.height
        guard reduced || (pixels.width == header.width && pixels.height == header.height) else {
            return .failure(PhotoRejection(.corrupt, "the image's data does not match its header"))
        }
        let oriented = pixels.oriented(header.orientation)
        let display = oriented.fitting(longestEdge: PhotoRules.displayEdge)
        let thumbnail = display.fitting(longestEdge: PhotoRules.thumbnailEdge)
        guard let displayBytes = Codecs.encodeJPEG(display, quality: PhotoRules.jpegQuality),
            let thumbnailBytes = Codecs.encodeJPEG(thumbnail, quality: PhotoRules.jpegQuality)
        else { return .failure(PhotoRejection(.corrupt, "the image could not be written again")) }
        return .success(
            ProcessedPhoto(
                sourceType: header.type,
                display: PhotoVariant(bytes: displayBytes, width: display.width, height: display.height),
                thumbnail: PhotoVariant(bytes: thumbnailBytes, width: thumbnail.width, height: thumbnail.height),
                differenceHash: thumbnail.differenceHash))
    }
}
