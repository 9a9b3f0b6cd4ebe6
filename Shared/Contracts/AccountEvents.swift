import Foundation

/// A new account exists. Published by the gateway, which owns accounts.
public struct UserRegistered: SequencedEvent {
    public static let eventType: EventType = "UserRegistered"
    public static let dataVersion = 1

    public var userId: UUID
    public var email: String
    public var registeredAt: Date
    public var sequence: Int64

    public init(userId: UUID, email: String, registeredAt: Date, sequence: Int64 = 1) {
        self.userId = userId
        self.email = email
        self.registeredAt = registeredAt
        self.sequence = sequence
    }
}

/// A guest account exists: no e-mail or password yet, only a display name. Published by
/// the gateway; the profile service starts the guest's profile with that name.
public struct GuestRegistered: SequencedEvent {
    public static let eventType: EventType = "GuestRegistered"
    public static let dataVersion = 1

    public var userId: UUID
    public var displayName: String
    public var registeredAt: Date
    public var sequence: Int64

    public init(userId: UUID, displayName: String, registeredAt: Date, sequence: Int64 = 1) {
        self.userId = userId
        self.displayName = displayName
        self.registeredAt = registeredAt
        self.sequence = sequence
    }
}

/// A guest linked an e-mail and password to their account; the user id is unchanged.
public struct AccountLinked: SequencedEvent {
    public static let eventType: EventType = "AccountLinked"
    public static let dataVersion = 1

    public var userId: UUID
    public var email: String
    public var sequence: Int64

    public init(userId: UUID, email: String, sequence: Int64) {
        self.userId = userId
        self.email = email
        self.sequence = sequence
    }
}

/// A user was suspended (after reports, or by an operator): they can no longer sign in or
/// refresh their tokens.
public struct UserSuspended: SequencedEvent {
    public static let eventType: EventType = "UserSuspended"
    public static let dataVersion = 1

    public var userId: UUID
    public var reason: String
    public var sequence: Int64

    public init(userId: UUID, reason: String, sequence: Int64) {
        self.userId = userId
        self.reason = reason
        self.sequence = sequence
    }
}

/// A user asked for their account to be deleted. Every service that keeps data about
/// users (`AccountDeletion.participants`) erases its part and answers `UserDataErased`.
public struct AccountDeletionRequested: Event {
    public static let eventType: EventType = "AccountDeletionRequested"
    public static let dataVersion = 1

    public var userId: UUID
    public var operationId: UUID

    public init(userId: UUID, operationId: UUID) {
        self.userId = userId
        self.operationId = operationId
    }
}

/// One service erased what it kept about a user, for a deletion operation.
public struct UserDataErased: Event {
    public static let eventType: EventType = "UserDataErased"
    public static let dataVersion = 1

    public var userId: UUID
    public var operationId: UUID
    public var service: ServiceName

    public init(userId: UUID, operationId: UUID, service: ServiceName) {
        self.userId = userId
        self.operationId = operationId
        self.service = service
    }
}

/// Who takes part in deleting an account: the services that keep data about users.
/// A service that starts keeping user data adds itself here and consumes
/// `AccountDeletionRequested`.
public enum AccountDeletion {
    public static let participants: Set<ServiceName> = [.profile, .media]
}

/// The roles an account may hold besides a user's; they travel in its access tokens.
public enum AccountRole: String, Codable, Sendable, CaseIterable {
    /// Reads and decides reports (`/v1/admin/reports`).
    case moderator
}

/// An operator granted or revoked a role (`kindred accounts grant|revoke <role> <email>`);
/// the gateway records it on the account with that e-mail. It takes effect with the
/// account's next access token.
public struct AccountRoleChanged: Event {
    public static let eventType: EventType = "AccountRoleChanged"
    public static let dataVersion = 1

    public var email: String
    public var role: AccountRole
    public var granted: Bool

    public init(email: String, role: AccountRole, granted: Bool) {
        self.email = email
        self.role = role
        self.granted = granted
    }
}
