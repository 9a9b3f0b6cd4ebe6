import Foundation

/// A user's profile as the profile service holds it. Fields a user has not filled in yet
/// are `nil` (a profile starts empty when the account is registered).
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

/// The values the profile contract accepts, shared so that the gateway can describe them
/// (OpenAPI, error messages) while the profile service enforces them.
public enum ProfileRules {
    public static let genders = ["woman", "man", "nonbinary"]
    public static let displayNameLength = 1...50
    public static let bioMaxLength = 500
    public static let minimumAge = 18
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

/// The gateway asks to replace the editable fields of a user's profile (`PUT`).
/// Fields are optional on the wire so that the profile service, which owns the rules,
/// can name every missing or invalid one in a single answer.
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
