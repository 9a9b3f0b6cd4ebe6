import Foundation

/// A user's profile as the profile service holds it, as its owner sees it (and as
/// `ProfileUpdated` carries it to matching). Fields a user has not filled in yet are `nil`
/// (a profile starts empty when the account is registered). Others never see this: they get
/// a `PublicProfile` (an age, not the birthdate; a distance band, not the cell).
public struct ProfileDocument: Codable, Sendable, Equatable {
    public var userId: UUID
    public var displayName: String?
    /// The calendar date of birth, `YYYY-MM-DD`.
    public var birthdate: String?
    /// One of `ProfileRules.genders`.
    public var gender: String?
    /// The genders this user wants to see, each one of `ProfileRules.genders`.
    public var seeking: [String]
    public var bio: String?
    public var updatedAt: Date
    /// Tags of `ProfileVocabulary.interests`.
    public var interests: [String]?
    /// Every id of `ProfileVocabulary.values` once, most important first.
    public var values: [String]?
    /// One of `ProfileVocabulary.relationshipIntents`.
    public var relationshipIntent: String?
    public var heightCm: Int?
    public var job: String?
    public var education: String?
    /// ISO 639-1 codes.
    public var languages: [String]?
    /// An IANA time zone name; daily picks and quiet hours follow it.
    public var timeZone: String?
    public var discovery: DiscoveryPreferences?
    /// False when the user paused their profile: hidden from discovery.
    public var visible: Bool?
    /// The grid cell of the last location the user gave (never the point itself).
    public var cell: GridCell?
    public var locationUpdatedAt: Date?
    /// The style of the latest attachment assessment.
    public var attachmentStyle: AttachmentStyle?
    /// Whether others may be shown this profile: complete, visible, not suspended, banned
    /// or held for review.
    public var discoverable: Bool?

    public init(
        userId: UUID, displayName: String? = nil, birthdate: String? = nil, gender: String? = nil,
        seeking: [String] = [], bio: String? = nil, updatedAt: Date
    ) {
        self.userId = userId
        self.displayName = displayName
        self.birthdate = birthdate
        self.gender = gender
        self.seeking = seeking
        self.bio = bio
        self.updatedAt = updatedAt
    }
}

/// Whom a user wants discovery to show them.
public struct DiscoveryPreferences: Codable, Sendable, Equatable {
    public var ageMin: Int
    public var ageMax: Int
    public var maxDistanceKm: Int
    /// Each one of `ProfileRules.genders`.
    public var genders: [String]

    public init(ageMin: Int, ageMax: Int, maxDistanceKm: Int, genders: [String]) {
        self.ageMin = ageMin
        self.ageMax = ageMax
        self.maxDistanceKm = maxDistanceKm
        self.genders = genders
    }
}

/// A change to discovery preferences: what is absent keeps its current value (its default,
/// for a profile that had none).
public struct DiscoveryUpdate: Codable, Sendable, Equatable {
    public var ageMin: Int?
    public var ageMax: Int?
    public var maxDistanceKm: Int?
    public var genders: [String]?

    public init(ageMin: Int? = nil, ageMax: Int? = nil, maxDistanceKm: Int? = nil, genders: [String]? = nil) {
        self.ageMin = ageMin
        self.ageMax = ageMax
        self.maxDistanceKm = maxDistanceKm
        self.genders = genders
    }
}

/// What another signed-in person is shown of a profile (`GET /v1/profiles/{userId}`).
public struct PublicProfile: Codable, Sendable, Equatable {
    public var userId: UUID
    public var displayName: String
    /// Whole years, from the birthdate, which is never shown.
    public var age: Int
    public var gender: String
    public var bio: String?
    public var interests: [String]
    public var relationshipIntent: String?
    public var heightCm: Int?
    public var job: String?
    public var education: String?
    public var languages: [String]
    /// The band between the viewer's cell and this person's; nil if either has not given a location.
    public var distance: DistanceBucket?
    /// The approved photos, the primary first (the gateway adds their signed URLs).
    public var photoIds: [UUID]

    public init(
        userId: UUID, displayName: String, age: Int, gender: String, bio: String?, interests: [String],
        relationshipIntent: String?, heightCm: Int?, job: String?, education: String?, languages: [String],
        distance: DistanceBucket?, photoIds: [UUID] = []
    ) {
        self.userId = userId
        self.displayName = displayName
        self.age = age
        self.gender = gender
        self.bio = bio
        self.interests = interests
        self.relationshipIntent = relationshipIntent
        self.heightCm = heightCm
        self.job = job
        self.education = education
        self.languages = languages
        self.distance = distance
        self.photoIds = photoIds
    }
}

/// The values the profile contract accepts, shared so that the gateway can describe them
/// (OpenAPI, error messages) while the profile service enforces them.
public enum ProfileRules {
    public static let genders = ["woman", "man", "nonbinary"]
    public static let displayNameLength = 1...50
    public static let bioMaxLength = 500
    public static let minimumAge = 18
    public static let maximumAge = 120
    public static let interestCount = 1...10
    public static let heightCm = 90...250
    public static let jobMaxLength = 100
    public static let educationMaxLength = 100
    public static let languageMaxCount = 10
    public static let discoveryAge = 18...99
    public static let maxDistanceKm = 1...300
    /// Discovery preferences of a profile that has not set them (genders default to `seeking`).
    public static let defaultAgeRange = 18...99
    public static let defaultMaxDistanceKm = 50
    /// The fields a `PATCH` may set to `null` (clear); the others are required once set.
    public static let clearableFields: Set<String> = [
        "bio", "interests", "values", "relationshipIntent", "heightCm", "job", "education", "languages", "timeZone",
    ]
}

/// The profile service created the (empty) profile of a newly registered user.
public struct ProfileCreated: SequencedEvent {
    public static let eventType: EventType = "ProfileCreated"
    public static let dataVersion = 1

    public var userId: UUID
    public var sequence: Int64

    public init(userId: UUID, sequence: Int64) {
        self.userId = userId
        self.sequence = sequence
    }
}

/// A profile changed; carries the whole new state. Also the answer to
/// `ProfileUpdateRequested`.
public struct ProfileUpdated: SequencedEvent {
    public static let eventType: EventType = "ProfileUpdated"
    public static let dataVersion = 1

    public var profile: ProfileDocument
    public var sequence: Int64

    public init(profile: ProfileDocument, sequence: Int64) {
        self.profile = profile
        self.sequence = sequence
    }
}

/// The gateway asks for a user's profile.
public struct ProfileRequested: RequestEvent {
    public typealias Reply = ProfileFound
    public static let eventType: EventType = "ProfileRequested"
    public static let dataVersion = 1

    public var userId: UUID

    public init(userId: UUID) { self.userId = userId }
}

/// The answer to `ProfileRequested`.
public struct ProfileFound: Event {
    public static let eventType: EventType = "ProfileFound"
    public static let dataVersion = 1

    public var profile: ProfileDocument

    public init(profile: ProfileDocument) { self.profile = profile }
}

/// The gateway asks to change the editable fields of a user's profile: all of them
/// (`PUT`: what is absent is cleared or takes its default) or some (`PATCH`, `partial`:
/// what is absent is unchanged, and `clear` names the fields set to `null`). Fields are
/// optional on the wire so that the profile service, which owns the rules, can name every
/// missing or invalid one in a single answer.
public struct ProfileUpdateRequested: RequestEvent {
    public typealias Reply = ProfileUpdated
    public static let eventType: EventType = "ProfileUpdateRequested"
    public static let dataVersion = 1

    public var userId: UUID
    public var displayName: String?
    public var birthdate: String?
    public var gender: String?
    public var seeking: [String]?
    public var bio: String?
    public var interests: [String]?
    public var values: [String]?
    public var relationshipIntent: String?
    public var heightCm: Int?
    public var job: String?
    public var education: String?
    public var languages: [String]?
    public var timeZone: String?
    public var discovery: DiscoveryUpdate?
    public var visible: Bool?
    /// True for `PATCH`.
    public var partial: Bool?
    /// `PATCH` only: the fields set to `null`, each one of `ProfileRules.clearableFields`.
    public var clear: [String]?

    public init(
        userId: UUID, displayName: String?, birthdate: String?, gender: String?,
        seeking: [String]?, bio: String?
    ) {
        self.userId = userId
        self.displayName = displayName
        self.birthdate = birthdate
        self.gender = gender
        self.seeking = seeking
        self.bio = bio
    }
}

/// The gateway asks for another user's profile as `viewerId` may see it.
public struct ProfileViewRequested: RequestEvent {
    public typealias Reply = ProfileViewFound
    public static let eventType: EventType = "ProfileViewRequested"
    public static let dataVersion = 1

    public var viewerId: UUID
    public var userId: UUID

    public init(viewerId: UUID, userId: UUID) {
        self.viewerId = viewerId
        self.userId = userId
    }
}

/// The answer to `ProfileViewRequested`.
public struct ProfileViewFound: Event {
    public static let eventType: EventType = "ProfileViewFound"
    /// 2: the profile names its approved photos (`photoIds`).
    public static let dataVersion = 2

    public var profile: PublicProfile

    public init(profile: PublicProfile) { self.profile = profile }
}

/// The gateway asks to move a user to a grid cell (it snapped their point; the point
/// goes no further).
public struct LocationUpdateRequested: RequestEvent {
    public typealias Reply = LocationChanged
    public static let eventType: EventType = "LocationUpdateRequested"
    public static let dataVersion = 1

    public var userId: UUID
    public var cell: GridCell

    public init(userId: UUID, cell: GridCell) {
        self.userId = userId
        self.cell = cell
    }
}

/// A user's location changed cell. `implausibleJump` when the move since the last change
/// implies more than `LocationRules.maxPlausibleSpeedKmPerHour` (stored all the same).
/// Also the answer to `LocationUpdateRequested`.
public struct LocationChanged: SequencedEvent {
    public static let eventType: EventType = "LocationChanged"
    public static let dataVersion = 1

    public var userId: UUID
    public var cell: GridCell
    public var changedAt: Date
    public var implausibleJump: Bool
    /// The profile's sequence after the change (a `ProfileUpdated` with it follows).
    public var sequence: Int64

    public init(userId: UUID, cell: GridCell, changedAt: Date, implausibleJump: Bool, sequence: Int64) {
        self.userId = userId
        self.cell = cell
        self.changedAt = changedAt
        self.implausibleJump = implausibleJump
        self.sequence = sequence
    }
}

/// The rules of location changes.
public enum LocationRules {
    /// At most one change per this many seconds.
    public static let minimumSecondsBetweenChanges = 60
    public static let maxPlausibleSpeedKmPerHour = 1000.0
}

/// A user answered the attachment questionnaire (`AttachmentQuestionnaire.items`, in order).
public struct AttachmentAssessmentSubmitted: RequestEvent {
    public typealias Reply = AttachmentAssessed
    public static let eventType: EventType = "AttachmentAssessmentSubmitted"
    public static let dataVersion = 1

    public var userId: UUID
    public var answers: [Int]

    public init(userId: UUID, answers: [Int]) {
        self.userId = userId
        self.answers = answers
    }
}

/// A user's attachment assessment was scored; the latest one counts. Also the answer to
/// `AttachmentAssessmentSubmitted`.
public struct AttachmentAssessed: SequencedEvent {
    public static let eventType: EventType = "AttachmentAssessed"
    public static let dataVersion = 1

    public var userId: UUID
    public var assessmentId: UUID
    /// Mean of the anxiety items (reverse-keyed ones flipped), 1 to 7.
    public var anxiety: Double
    /// Mean of the avoidance items, 1 to 7.
    public var avoidance: Double
    public var style: AttachmentStyle
    /// A few plain sentences about the style, for the user.
    public var explanation: String
    public var takenAt: Date
    /// The profile's sequence after the assessment.
    public var sequence: Int64

    public init(
        userId: UUID, assessmentId: UUID, anxiety: Double, avoidance: Double, style: AttachmentStyle,
        explanation: String, takenAt: Date, sequence: Int64
    ) {
        self.userId = userId
        self.assessmentId = assessmentId
        self.anxiety = anxiety
        self.avoidance = avoidance
        self.style = style
        self.explanation = explanation
        self.takenAt = takenAt
        self.sequence = sequence
    }
}
