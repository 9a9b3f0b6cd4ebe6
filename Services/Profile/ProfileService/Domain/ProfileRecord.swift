import Contracts
import Foundation

/// Where moderation left a user.
public enum ModerationState: String, Sendable, Equatable {
    case none
    /// Hidden from discovery pending review (an `underage` report).
    case held
    case suspended
    case banned
}

/// Everything the profile service keeps of one profile, as pure data: the store reads and
/// writes it, the domain decides on it.
public struct ProfileRecord: Sendable, Equatable {
    public var userID: UUID
    public var displayName: String?
    public var birthdate: String?
    public var gender: String?
    public var seeking: [String] = []
    public var bio: String?
    public var interests: [String]?
    public var values: [String]?
    public var relationshipIntent: String?
    public var heightCm: Int?
    public var job: String?
    public var education: String?
    public var languages: [String]?
    public var timeZone: String?
    public var discovery: DiscoveryPreferences?
    public var visible = true
    public var cell: GridCell?
    public var locationUpdatedAt: Date?
    public var attachmentStyle: AttachmentStyle?
    public var moderation: ModerationState = .none
    public var moderationSequence: Int64 = 0
    public var sequence: Int64 = 1
    public var updatedAt: Date

    public init(userID: UUID, updatedAt: Date) {
        self.userID = userID
        self.updatedAt = updatedAt
    }

    /// Name, birthdate and gender: what others must be shown.
    public var isComplete: Bool { displayName != nil && birthdate != nil && gender != nil }

    /// Whether others may see this profile at all.
    public var isDiscoverable: Bool { isComplete && visible && moderation == .none }

    /// The discovery preferences in force: the stored ones, or the defaults.
    public var effectiveDiscovery: DiscoveryPreferences {
        discovery
            ?? DiscoveryPreferences(
                ageMin: ProfileRules.defaultAgeRange.lowerBound, ageMax: ProfileRules.defaultAgeRange.upperBound,
                maxDistanceKm: ProfileRules.defaultMaxDistanceKm,
                genders: seeking.isEmpty ? ProfileRules.genders : seeking)
    }

    /// The owner's view, which `ProfileUpdated` also carries.
    public var document: ProfileDocument {
        var document = ProfileDocument(
            userId: userID, displayName: displayName, birthdate: birthdate, gender: gender, seeking: seeking, bio: bio,
            updatedAt: updatedAt)
        document.interests = interests
        document.values = values
        document.relationshipIntent = relationshipIntent
        document.heightCm = heightCm
        document.job = job
        document.education = education
        document.languages = languages
        document.timeZone = timeZone
        document.discovery = effectiveDiscovery
        document.visible = visible
        document.cell = cell
        document.locationUpdatedAt = locationUpdatedAt
        document.attachmentStyle = attachmentStyle
        document.discoverable = isDiscoverable
        return document
    }

    /// What `viewer` is shown: nil unless this profile is discoverable (the caller also
    /// answers nil for blocks), so that every reason looks the same from outside.
    public func publicView(for viewer: ProfileRecord?, today: Date) -> PublicProfile? {
        guard isDiscoverable, let displayName, let birthdate, let gender, let born = CalendarDate(birthdate) else {
            return nil
        }
        let distance: DistanceBucket? =
            if let cell, let viewerCell = viewer?.cell { DistanceBucket.between(viewerCell, cell) } else { nil }
        return PublicProfile(
            userId: userID, displayName: displayName, age: born.age(on: today), gender: gender, bio: bio,
            interests: interests ?? [], relationshipIntent: relationshipIntent, heightCm: heightCm, job: job,
            education: education, languages: languages ?? [], distance: distance)
    }
}

extension RequestFailed {
    /// The answer to a request about a user who has no profile (yet, or any more).
    static let noProfile = RequestFailed(code: .notFound, detail: "this user has no profile yet")
}
