import Foundation

/// An example of an event's `data`, for documentation (`kindred contracts`) and the JSON
/// Schema derived from it. Every registered type has one.
public protocol ExampleProviding {
    static var example: Self { get }
}

private let exampleUser = UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF") ?? UUID()
private let exampleOperation = UUID(uuidString: "0E984725-C51C-4BF4-9960-E1C80E27ABA0") ?? UUID()
private let exampleTime = Date(timeIntervalSince1970: 1_795_348_800)
private let exampleOther = UUID(uuidString: "3B241101-E2BB-4255-8CAF-4136C566A962") ?? UUID()
private let exampleReport = UUID(uuidString: "9C5B94B1-35AD-49BB-B118-8E8FC24ABF80") ?? UUID()
private let exampleCell = GridCell(row: 15_006, column: 27_123)
private let exampleProfile: ProfileDocument = {
    var profile = ProfileDocument(
        userId: exampleUser, displayName: "Ada", birthdate: "1990-05-17", gender: "woman", seeking: ["man"],
        bio: "Engines and poetry.", updatedAt: exampleTime)
    profile.interests = ["poetry", "science", "chess"]
    profile.values = ProfileVocabulary.valueIDs
    profile.relationshipIntent = "long-term"
    profile.heightCm = 170
    profile.job = "Analyst"
    profile.education = "Private tutors"
    profile.languages = ["en", "fr"]
    profile.timeZone = "Europe/London"
    profile.discovery = DiscoveryPreferences(ageMin: 28, ageMax: 45, maxDistanceKm: 25, genders: ["man"])
    profile.visible = true
    profile.cell = exampleCell
    profile.locationUpdatedAt = exampleTime
    profile.attachmentStyle = .secure
    profile.discoverable = true
    return profile
}()

extension UserRegistered: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, email: "ada@example.com", registeredAt: exampleTime) }
}
extension GuestRegistered: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, displayName: "Mystery", registeredAt: exampleTime) }
}
extension AccountLinked: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, email: "ada@example.com", sequence: 2) }
}
extension UserSuspended: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, reason: "reported three times", sequence: 3) }
}
extension AccountDeletionRequested: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, operationId: exampleOperation) }
}
extension UserDataErased: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, operationId: exampleOperation, service: .profile) }
}
extension ProfileCreated: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, sequence: 1) }
}
extension ProfileUpdated: ExampleProviding {
    public static var example: Self { .init(profile: exampleProfile, sequence: 2) }
}
extension ProfileRequested: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser) }
}
extension ProfileFound: ExampleProviding {
    public static var example: Self { .init(profile: exampleProfile) }
}
extension ProfileUpdateRequested: ExampleProviding {
    public static var example: Self {
        .init(
            userId: exampleUser, displayName: "Ada", birthdate: "1990-05-17", gender: "woman", seeking: ["man"],
            bio: "Engines and poetry.")
    }
}
extension ProfileViewRequested: ExampleProviding {
    public static var example: Self { .init(viewerId: exampleOther, userId: exampleUser) }
}
extension ProfileViewFound: ExampleProviding {
    public static var example: Self {
        .init(
            profile: PublicProfile(
                userId: exampleUser, displayName: "Ada", age: 36, gender: "woman", bio: "Engines and poetry.",
                interests: ["poetry", "science"], relationshipIntent: "long-term", heightCm: 170, job: "Analyst",
                education: nil, languages: ["en"], distance: DistanceBucket(distanceKm: 7), photoIds: [examplePhoto]))
    }
}
extension LocationUpdateRequested: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, cell: exampleCell) }
}
extension LocationChanged: ExampleProviding {
    public static var example: Self {
        .init(userId: exampleUser, cell: exampleCell, changedAt: exampleTime, implausibleJump: false, sequence: 3)
    }
}
extension AttachmentAssessmentSubmitted: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, answers: Array(repeating: 4, count: 18)) }
}
extension AttachmentAssessed: ExampleProviding {
    public static var example: Self {
        .init(
            userId: exampleUser, assessmentId: exampleReport, anxiety: 2.5, avoidance: 3.1, style: .secure,
            explanation: "You are mostly at ease with closeness.", takenAt: exampleTime, sequence: 4)
    }
}
extension ReportFiled: ExampleProviding {
    public static var example: Self {
        .init(reporterId: exampleOther, userId: exampleUser, reason: "spam", detail: "Sends links to a shop.")
    }
}
extension UserReported: ExampleProviding {
    public static var example: Self {
        .init(
            reportId: exampleReport, reporterId: exampleOther, userId: exampleUser, reason: .spam,
            reportedAt: exampleTime)
    }
}
extension ReportsListRequested: ExampleProviding {
    public static var example: Self { .init(moderatorId: exampleOther, status: "open") }
}
extension ReportsListed: ExampleProviding {
    public static var example: Self {
        .init(reports: [
            ReportSummary(
                reportId: exampleReport, reporterId: exampleOther, userId: exampleUser, reason: .spam,
                detail: "Sends links to a shop.", status: "open", reportedAt: exampleTime, reporterCounted: true,
                decision: nil, decidedAt: nil)
        ])
    }
}
extension ReportDecisionRequested: ExampleProviding {
    public static var example: Self {
        .init(moderatorId: exampleOther, reportId: exampleReport, action: "warn", note: "First offence.")
    }
}
extension ReportDecided: ExampleProviding {
    public static var example: Self {
        .init(
            decisionId: exampleOperation, reportId: exampleReport, userId: exampleUser, moderatorId: exampleOther,
            action: .warn, decidedAt: exampleTime)
    }
}
extension UserBanned: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, reason: "scam", sequence: 4) }
}
extension UserReinstated: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, sequence: 5) }
}
extension UserBlocked: ExampleProviding {
    public static var example: Self { .init(blockerId: exampleOther, blockedId: exampleUser, blockedAt: exampleTime) }
}
extension UserUnblocked: ExampleProviding {
    public static var example: Self {
        .init(blockerId: exampleOther, blockedId: exampleUser, unblockedAt: exampleTime)
    }
}
extension AccountRoleChanged: ExampleProviding {
    public static var example: Self { .init(email: "moderator@example.com", role: .moderator, granted: true) }
}
private let examplePhoto = UUID(uuidString: "5C9E1F0A-7B2D-4E3F-9A81-2D64C7B0E913") ?? UUID()
extension PhotoUploadRequested: ExampleProviding {
    /// The smallest GIF there is: an example of bytes, which media would refuse.
    public static var example: Self { .init(bytes: Array("GIF89a".utf8)) }
}
extension PhotoAccepted: ExampleProviding {
    public static var example: Self { .init(photoId: examplePhoto, status: .processing) }
}
extension PhotoUploaded: ExampleProviding {
    public static var example: Self {
        .init(userId: exampleUser, photoId: examplePhoto, uploadedAt: exampleTime, sequence: 1)
    }
}
extension PhotoApproved: ExampleProviding {
    public static var example: Self {
        .init(userId: exampleUser, photoId: examplePhoto, position: 0, approvedAt: exampleTime, sequence: 2)
    }
}
extension PhotoRejected: ExampleProviding {
    public static var example: Self {
        .init(
            userId: exampleUser, photoId: examplePhoto, code: "too-small", reason: "200×200 is too small",
            rejectedAt: exampleTime, sequence: 2)
    }
}
extension PhotosListRequested: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser) }
}
extension PhotosListed: ExampleProviding {
    public static var example: Self {
        .init(photos: [
            PhotoSummary(
                photoId: examplePhoto, userId: exampleUser, status: .approved, position: 0, reason: nil, width: 1200,
                height: 900, uploadedAt: exampleTime)
        ])
    }
}
extension PhotosReorderRequested: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, photoIds: [examplePhoto]) }
}
extension PhotosReordered: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, photoIds: [examplePhoto], sequence: 3) }
}
extension PhotoRemovalRequested: ExampleProviding {
    public static var example: Self { .init(userId: exampleUser, photoId: examplePhoto) }
}
extension PhotoRemoved: ExampleProviding {
    public static var example: Self {
        .init(userId: exampleUser, photoId: examplePhoto, removedAt: exampleTime, sequence: 4)
    }
}
extension PhotoReviewListRequested: ExampleProviding {
    public static var example: Self { .init(moderatorId: exampleOther, status: PhotoStatus.pendingReview.rawValue) }
}
extension PhotoReviewListed: ExampleProviding {
    public static var example: Self {
        .init(photos: [
            PhotoSummary(
                photoId: examplePhoto, userId: exampleUser, status: .pendingReview, position: 0, reason: nil,
                width: 1200, height: 900, uploadedAt: exampleTime)
        ])
    }
}
extension PhotoDecisionRequested: ExampleProviding {
    public static var example: Self {
        .init(moderatorId: exampleOther, photoId: examplePhoto, decision: .reject, reason: "not a photo of a person")
    }
}
extension PhotoDecided: ExampleProviding {
    public static var example: Self {
        .init(
            photoId: examplePhoto, userId: exampleUser, status: .rejected, reason: "not a photo of a person",
            decidedAt: exampleTime)
    }
}
extension RequestFailed: ExampleProviding {
    public static var example: Self {
        .init(
            code: .validationFailed, detail: "the profile has invalid fields",
            fieldErrors: [FieldError(field: "gender", message: "must be one of woman, man, nonbinary")])
    }
}

extension EventDescriptor {
    /// The example envelope of this type, encoded.
    public var exampleDocument: [UInt8] { makeExample() }
}
