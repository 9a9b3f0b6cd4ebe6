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
