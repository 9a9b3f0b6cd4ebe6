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

    static let profileUpdate = SchemaComponent(
        inferring: ProfileUpdateBody.self, name: "ProfileUpdate",
        fields: [
            "displayName": FieldRules(
                minLength: ProfileRules.displayNameLength.lowerBound,
                maxLength: ProfileRules.displayNameLength.upperBound),
            "birthdate": FieldRules(
                description: "An adult: \(ProfileRules.minimumAge) or older", format: "date"),
            "gender": FieldRules(values: ProfileRules.genders),
            "seeking": FieldRules(values: ProfileRules.genders, minItems: 1, uniqueItems: true),
            "bio": FieldRules(maxLength: ProfileRules.bioMaxLength),
        ])

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
