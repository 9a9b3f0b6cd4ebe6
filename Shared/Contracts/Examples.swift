import Foundation

/// An example of an event's `data`, for documentation (`kindred contracts`) and the JSON
/// Schema derived from it. Every registered type has one.
public protocol ExampleProviding {
    static var example: Self { get }
}

private let exampleUser = UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF") ?? UUID()
private let exampleOperation = UUID(uuidString: "0E984725-C51C-4BF4-9960-E1C80E27ABA0") ?? UUID()
private let exampleTime = Date(timeIntervalSince1970: 1_795_348_800)
private let exampleProfile = ProfileDocument(
    userId: exampleUser, displayName: "Ada", birthdate: "1990-05-17", gender: "woman", seeking: ["man"],
    bio: "Engines and poetry.", updatedAt: exampleTime)

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
