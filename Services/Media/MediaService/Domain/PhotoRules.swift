/// The limits of a photo's pixels, in one place (those the gateway also needs, the upload
/// size and the count, are `Contracts.PhotoLimits`).
public enum PhotoRules {
    /// Both sides at least this many pixels.
    public static let minSide = 320
    /// Neither side more than this many pixels.
    public static let maxSide = 8000
    /// At most this many pixels (a decompression bomb is refused from its header).
    public static let maxPixels = 40_000_000
    /// The longer edge of the display variant and of the thumbnail.
    public static let displayEdge = 1200
    public static let thumbnailEdge = 400
    /// A photo whose difference hash is this close to a rejected one's is rejected too.
    public static let blockedHashDistance = 10
    public static let jpegQuality: Int32 = 85

    /// Whether a header's size may be decoded.
    public static func check(width: Int, height: Int) -> PhotoRejection? {
        if width > maxSide || height > maxSide || width * height > maxPixels {
            return PhotoRejection(
                .tooLarge,
                "\(width)×\(height) is too large: at most \(maxSide) pixels a side and \(maxPixels / 1_000_000) megapixels"
            )
        }
        if width < minSide || height < minSide {
            return PhotoRejection(.tooSmall, "\(width)×\(height) is too small: at least \(minSide)×\(minSide)")
        }
        return nil
    }
}
