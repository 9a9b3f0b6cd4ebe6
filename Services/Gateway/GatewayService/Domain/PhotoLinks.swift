import Contracts
import Foundation
import SignedURLs

/// The signed, expiring URLs of a photo's variants on media's origin, as every answer that
/// includes photos gives them: the user's own list, a moderator's queue, another person's
/// profile.
struct PhotoLinks: Codable, Sendable, Equatable {
    /// Longest edge 1200 px.
    var display: String
    /// Longest edge 400 px.
    var thumbnail: String
    /// When both stop working; ask again for new ones.
    var expiresAt: Date
}

/// Mints `PhotoLinks` with the gateway's signing key.
struct PhotoLinkMinter: Sendable {
    let signer: MediaURLSigner
    /// `KINDRED_MEDIA_PUBLIC_URL`, without a trailing slash: media's origin, or a CDN in front of it.
    let publicBase: String
    let lifetimeSeconds: Int

    /// Links valid for `lifetimeSeconds` from `now`, rounded up to the next whole minute so
    /// that the same photo asked for twice within a minute has the same URLs (caches keep them).
    func links(to photoID: UUID, now: Date) -> PhotoLinks {
        let earliest = Int64(now.timeIntervalSince1970) + Int64(lifetimeSeconds)
        let expires = (earliest + 59) / 60 * 60
        return PhotoLinks(
            display: publicBase + signer.path(photoID: photoID, variant: .display, expires: expires),
            thumbnail: publicBase + signer.path(photoID: photoID, variant: .thumbnail, expires: expires),
            expiresAt: Date(timeIntervalSince1970: TimeInterval(expires)))
    }
}

/// A photo on someone else's profile: its id and URLs.
struct PublicPhoto: Codable, Sendable, Equatable {
    var photoId: UUID
    var urls: PhotoLinks
}

extension PhotoLinkMinter {
    /// The photos others see (a profile's approved photos, in order), with their links.
    func publicPhotos(_ photoIDs: [UUID], now: Date) -> [PublicPhoto] {
        photoIDs.map { PublicPhoto(photoId: $0, urls: links(to: $0, now: now)) }
    }
}
