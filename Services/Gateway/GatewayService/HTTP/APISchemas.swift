import Contracts
import Foundation
import ServiceRuntime

// The request bodies of the API. They are read field by field (`JSONBody`), not decoded,
// so that one 422 names every wrong field; each type is what the document shows and, through
// its schema component, the list of fields its route accepts.

/// `POST /v1/auth/register`, `login` and `link`.
struct CredentialsBody: Codable, Sendable {
    var email: String
    var password: String
}

/// `POST /v1/auth/guest`.
struct GuestBody: Codable, Sendable {
    var displayName: String
}

/// `POST /v1/auth/refresh` and `logout`.
struct RefreshBody: Codable, Sendable {
    var refreshToken: String
}

/// `PUT /v1/profile/me`: the whole editable profile. The gateway forwards the fields it got
/// (`ProfileUpdateRequested`) and the profile service, which owns the rules, names every
/// missing or invalid one; this type says which are required.
struct ProfileUpdateBody: Codable, Sendable {
    var displayName: String
    var birthdate: String
    var gender: String
    var seeking: [String]
    var bio: String?
    var interests: [String]?
    var values: [String]?
    var relationshipIntent: String?
    var heightCm: Int?
    var job: String?
    var education: String?
    var languages: [String]?
    var timeZone: String?
    var discovery: DiscoveryUpdate?
    var visible: Bool?
}

/// `PATCH /v1/profile/me`: any of the fields of `ProfileUpdateBody`; `null` clears an
/// optional one.
struct ProfilePatchBody: Codable, Sendable {
    var displayName: String?
    var birthdate: String?
    var gender: String?
    var seeking: [String]?
    var bio: String?
    var interests: [String]?
    var values: [String]?
    var relationshipIntent: String?
    var heightCm: Int?
    var job: String?
    var education: String?
    var languages: [String]?
    var timeZone: String?
    var discovery: DiscoveryUpdate?
    var visible: Bool?
}

/// `PUT /v1/profile/me/location`: a point, which the gateway snaps to its grid cell.
struct LocationBody: Codable, Sendable {
    var latitude: Double
    var longitude: Double
}

/// The answer to `PUT /v1/profile/me/location`: how precisely it was kept, never where.
struct LocationAnswer: Codable, Sendable {
    var cellSizeKm: Double
    var updatedAt: Date
}

/// `POST /v1/assessments/attachment`.
struct AttachmentAnswersBody: Codable, Sendable {
    var answers: [Int]
}

/// The answer to `POST /v1/assessments/attachment`.
struct AttachmentResult: Codable, Sendable {
    var anxiety: Double
    var avoidance: Double
    var style: AttachmentStyle
    var explanation: String
    var takenAt: Date
}

/// `POST /v1/reports`.
struct ReportBody: Codable, Sendable {
    var userId: UUID
    var reason: String
    var detail: String?
}

/// The answer to `POST /v1/reports`.
struct ReportAnswer: Codable, Sendable {
    var reportId: UUID
    var status: String
    var reportedAt: Date
}

/// The answer to `GET /v1/admin/reports`.
struct ReportList: Codable, Sendable {
    var reports: [ReportSummary]
}

/// `POST /v1/admin/reports/{id}/decision`.
struct DecisionBody: Codable, Sendable {
    var action: String
    var note: String?
}

/// A photo as its owner (or a moderator) sees it.
struct PhotoDocument: Codable, Sendable, Equatable {
    var photoId: UUID
    var userId: UUID
    var status: PhotoStatus
    /// 0 is the primary photo.
    var position: Int
    var reason: String?
    var width: Int?
    var height: Int?
    var uploadedAt: Date
    /// While media serves it: approved, or waiting for review (to its owner and moderators only).
    var urls: PhotoLinks?
}

/// The answer to `GET /v1/media/photos` and `GET /v1/admin/photos`.
struct PhotoList: Codable, Sendable {
    var photos: [PhotoDocument]
}

/// `PUT /v1/media/photos/order`, and its answer.
struct PhotoOrder: Codable, Sendable {
    var photoIds: [UUID]
}

/// `POST /v1/admin/photos/{id}/decision`.
struct PhotoDecisionBody: Codable, Sendable {
    var decision: String
    var reason: String?
}

/// Another user's profile as the viewer sees it: the profile service's `PublicProfile`,
/// with the URLs of its approved photos, the primary first.
struct ProfileView: Codable, Sendable {
    var userId: UUID
    var displayName: String
    var age: Int
    var gender: String
    var bio: String?
    var interests: [String]
    var relationshipIntent: String?
    var heightCm: Int?
    var job: String?
    var education: String?
    var languages: [String]
    var distance: DistanceBucket?
    var photos: [PublicPhoto]

    init(_ profile: PublicProfile, photos: [PublicPhoto]) {
        userId = profile.userId
        displayName = profile.displayName
        age = profile.age
        gender = profile.gender
        bio = profile.bio
        interests = profile.interests
        relationshipIntent = profile.relationshipIntent
        heightCm = profile.heightCm
        job = profile.job
        education = profile.education
        languages = profile.languages
        distance = profile.distance
        self.photos = photos
    }
}

/// The component schemas of the gateway's document, each inferred from the type above or
/// the type the route encodes (`TokenResponse`, `ProfileDocument`, `OperationStatus`).
extension SchemaComponent {
    static let credentials = SchemaComponent(
        inferring: CredentialsBody.self, name: "Credentials",
        fields: [
            "email": FieldRules(format: "email", maxLength: 254),
            "password": FieldRules(
                description: "UTF-8 bytes", minLength: Credentials.passwordLength.lowerBound,
                maxLength: Credentials.passwordLength.upperBound),
        ])

    static let guest = SchemaComponent(
        inferring: GuestBody.self, name: "GuestRequest",
        fields: [
            "displayName": FieldRules(
                minLength: ProfileRules.displayNameLength.lowerBound,
                maxLength: ProfileRules.displayNameLength.upperBound)
        ])

    static let refresh = SchemaComponent(inferring: RefreshBody.self, name: "RefreshRequest")

    /// The rules of the editable profile fields, one list for `PUT` and `PATCH`.
    static let profileFieldRules: [String: FieldRules] = [
        "displayName": FieldRules(
            minLength: ProfileRules.displayNameLength.lowerBound, maxLength: ProfileRules.displayNameLength.upperBound),
        "birthdate": FieldRules(description: "An adult: \(ProfileRules.minimumAge) or older", format: "date"),
        "gender": FieldRules(values: ProfileRules.genders),
        "seeking": FieldRules(values: ProfileRules.genders, minItems: 1, uniqueItems: true),
        "bio": FieldRules(maxLength: ProfileRules.bioMaxLength),
        "interests": FieldRules(
            description: "Tags of `GET /v1/vocabulary`", values: ProfileVocabulary.interests,
            minItems: ProfileRules.interestCount.lowerBound, maxItems: ProfileRules.interestCount.upperBound,
            uniqueItems: true),
        "values": FieldRules(
            description: "Every value statement of `GET /v1/vocabulary` once, most important first",
            values: ProfileVocabulary.valueIDs, minItems: ProfileVocabulary.valueIDs.count,
            maxItems: ProfileVocabulary.valueIDs.count, uniqueItems: true),
        "relationshipIntent": FieldRules(values: ProfileVocabulary.relationshipIntents),
        "heightCm": FieldRules(minimum: ProfileRules.heightCm.lowerBound, maximum: ProfileRules.heightCm.upperBound),
        "job": FieldRules(minLength: 1, maxLength: ProfileRules.jobMaxLength),
        "education": FieldRules(minLength: 1, maxLength: ProfileRules.educationMaxLength),
        "languages": FieldRules(
            description: "ISO 639-1 codes", values: ProfileVocabulary.languages, minItems: 1,
            maxItems: ProfileRules.languageMaxCount, uniqueItems: true),
        "timeZone": FieldRules(description: "An IANA time zone name, such as Europe/Paris"),
        "visible": FieldRules(description: "false pauses the profile: hidden from discovery"),
    ]

    static let profileUpdate = SchemaComponent(
        inferring: ProfileUpdateBody.self, name: "ProfileUpdate", fields: profileFieldRules)

    static let profilePatch = SchemaComponent(
        inferring: ProfilePatchBody.self, name: "ProfilePatch",
        fields: profileFieldRules.merging(
            [
                "bio": FieldRules(
                    description: "`null` clears this and the other optional fields",
                    maxLength: ProfileRules.bioMaxLength)
            ], uniquingKeysWith: { _, new in new }))

    static let discoveryUpdate = SchemaComponent(
        inferring: DiscoveryUpdate.self, name: "DiscoveryUpdate",
        fields: [
            "ageMin": FieldRules(
                minimum: ProfileRules.discoveryAge.lowerBound, maximum: ProfileRules.discoveryAge.upperBound),
            "ageMax": FieldRules(
                description: "At least ageMin", minimum: ProfileRules.discoveryAge.lowerBound,
                maximum: ProfileRules.discoveryAge.upperBound),
            "maxDistanceKm": FieldRules(
                minimum: ProfileRules.maxDistanceKm.lowerBound, maximum: ProfileRules.maxDistanceKm.upperBound),
            "genders": FieldRules(values: ProfileRules.genders, minItems: 1, uniqueItems: true),
        ])

    static let location = SchemaComponent(
        inferring: LocationBody.self, name: "Location",
        fields: [
            "latitude": FieldRules(
                description: "Snapped to a grid cell of about 1 km at once; never stored", minimum: -90, maximum: 90),
            "longitude": FieldRules(minimum: -180, maximum: 180),
        ])

    static let locationAnswer = SchemaComponent(inferring: LocationAnswer.self, name: "LocationStored")

    static let publicProfile = SchemaComponent(
        inferring: ProfileView.self, name: "PublicProfile",
        fields: [
            "age": FieldRules(description: "Whole years; the birthdate is never shown"),
            "distance": FieldRules(description: "A band from the two grid cells; never a position or exact distance"),
            "photos": FieldRules(description: "Approved photos, the primary first; at least one"),
        ])

    static let photoAccepted = SchemaComponent(
        inferring: PhotoAccepted.self, name: "PhotoAccepted",
        fields: ["status": FieldRules(description: "`processing`: follow it at `Location` or on `GET /v1/events`")])

    static let photo = SchemaComponent(
        inferring: PhotoDocument.self, name: "Photo",
        fields: [
            "status": FieldRules(values: PhotoStatus.allCases.map(\.rawValue)),
            "reason": FieldRules(description: "Why it was rejected"),
            "width": FieldRules(description: "Of the display variant, once processed"),
        ])

    static let photoList = SchemaComponent(inferring: PhotoList.self, name: "PhotoList")

    static let photoOrder = SchemaComponent(
        inferring: PhotoOrder.self, name: "PhotoOrder",
        fields: [
            "photoIds": FieldRules(
                description: "Every photo of the user that is not rejected, each once; the first is the primary",
                minItems: 1, maxItems: PhotoLimits.maxPhotosPerUser, uniqueItems: true)
        ])

    static let photoDecision = SchemaComponent(
        inferring: PhotoDecisionBody.self, name: "PhotoDecision",
        fields: [
            "decision": FieldRules(values: PhotoDecision.allCases.map(\.rawValue)),
            "reason": FieldRules(
                description: "Told to the owner of a rejected photo", minLength: 1,
                maxLength: PhotoLimits.reasonMaxLength),
        ])

    static let photoDecided = SchemaComponent(
        inferring: PhotoDecided.self, name: "PhotoDecided",
        fields: ["status": FieldRules(values: [PhotoStatus.approved.rawValue, PhotoStatus.rejected.rawValue])])

    static let vocabulary = SchemaComponent(inferring: VocabularyDocument.self, name: "Vocabulary")

    static let questionnaire = SchemaComponent(
        inferring: AttachmentQuestionnaireDocument.self, name: "AttachmentQuestionnaire")

    static let attachmentAnswers = SchemaComponent(
        inferring: AttachmentAnswersBody.self, name: "AttachmentAnswers",
        fields: [
            "answers": FieldRules(
                description: "One answer per item, in item order, each 1 (strongly disagree) to 7 (strongly agree)",
                minItems: AttachmentQuestionnaire.items.count, maxItems: AttachmentQuestionnaire.items.count)
        ])

    static let attachmentResult = SchemaComponent(inferring: AttachmentResult.self, name: "AttachmentResult")

    static let report = SchemaComponent(
        inferring: ReportBody.self, name: "Report",
        fields: [
            "reason": FieldRules(values: ReportReason.allCases.map(\.rawValue)),
            "detail": FieldRules(maxLength: ReportRules.detailMaxLength),
        ])

    static let reportAnswer = SchemaComponent(inferring: ReportAnswer.self, name: "ReportFiled")

    static let reportList = SchemaComponent(inferring: ReportList.self, name: "ReportList")

    static let decision = SchemaComponent(
        inferring: DecisionBody.self, name: "Decision",
        fields: [
            "action": FieldRules(values: ModerationAction.allCases.map(\.rawValue)),
            "note": FieldRules(maxLength: ReportRules.noteMaxLength),
        ])

    static let decided = SchemaComponent(inferring: ReportDecided.self, name: "ReportDecided")

    static let tokens = SchemaComponent(
        inferring: TokenResponse.self, name: "Tokens",
        fields: [
            "accessToken": FieldRules(description: "JWT, valid for `expiresIn` seconds"),
            "refreshToken": FieldRules(description: "Opaque, 7 days, rotated on every use"),
            "tokenType": FieldRules(values: ["Bearer"]),
        ])

    static let profile = SchemaComponent(
        inferring: ProfileDocument.self, name: "Profile",
        fields: [
            "birthdate": FieldRules(format: "date"),
            "gender": FieldRules(values: ProfileRules.genders),
            "seeking": FieldRules(values: ProfileRules.genders),
        ])

    static let operation = SchemaComponent(
        inferring: OperationStatus.self, name: "Operation",
        fields: ["status": FieldRules(values: ["pending", "completed"])])
}
