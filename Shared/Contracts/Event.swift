import Foundation

/// The wire name of an event type: the AMQP routing key, the CloudEvents `type` and the
/// first half of every queue name. It is always written out as a constant, never derived
/// from a Swift type name, so renaming a Swift type cannot change the wire.
public struct EventType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}

/// The services of the suite. Their raw values appear in queue names, database names,
/// role names and the CloudEvents `source` (`/kindred/<service>`).
public enum ServiceName: String, Sendable, CaseIterable, Codable {
    case gateway, profile, matching, notification, payment, media

    /// The CloudEvents `source` attribute of events this service publishes.
    public var source: String { "/kindred/\(rawValue)" }

    /// The service whose `source` this is.
    public init?(source: String) {
        guard let service = Self.allCases.first(where: { $0.source == source }) else { return nil }
        self = service
    }
}

/// The `data` of one event type.
///
/// Conforming types are the contract between services: `data` only grows by optional
/// fields; a breaking change is a new `dataVersion`.
public protocol Event: Codable, Sendable, Equatable {
    /// The constant wire name (`UserRegistered`).
    static var eventType: EventType { get }
    /// The schema version of `data` that this Swift type encodes.
    static var dataVersion: Int { get }
}

/// An event about one aggregate, which carries an increasing `sequence` so that
/// projections can ignore anything older than what they hold.
public protocol SequencedEvent: Event {
    var sequence: Int64 { get }
}
