import Foundation

/// A CloudEvents 1.0 structured-mode JSON document carrying one event.
///
/// The extensions `dataversion`, `correlationid`, `causationid` and `traceparent` are
/// Kindred's; see DESIGN.md §2.
public struct Envelope<Payload: Event>: Codable, Sendable, Equatable {
    public var specversion: String
    public var id: UUID
    public var source: String
    public var type: EventType
    public var time: Date
    public var subject: String?
    public var datacontenttype: String
    public var dataversion: Int
    public var correlationid: String
    public var causationid: String?
    public var traceparent: String?
    public var data: Payload

    public init(
        id: UUID = .random(), source: ServiceName, time: Date, subject: String?, data: Payload,
        correlationID: String, causationID: String? = nil, traceparent: String? = nil
    ) {
        self.specversion = "1.0"
        self.id = id
        self.source = source.source
        self.type = Payload.eventType
        self.time = time
        self.subject = subject
        self.datacontenttype = "application/json"
        self.dataversion = Payload.dataVersion
        self.correlationid = correlationID
        self.causationid = causationID
        self.traceparent = traceparent
        self.data = data
    }

    /// An envelope for an event caused by `cause`: it keeps the correlation id and trace
    /// context and names the cause's id as its causation id.
    public init<Cause: Event>(
        causedBy cause: Envelope<Cause>, source: ServiceName, time: Date, subject: String?,
        data: Payload, id: UUID = .random()
    ) {
        self.init(
            id: id, source: source, time: time, subject: subject, data: data,
            correlationID: cause.correlationid, causationID: cause.id.uuidString,
            traceparent: cause.traceparent)
    }

    /// The header attributes without `data`.
    public var header: EnvelopeHeader {
        EnvelopeHeader(
            specversion: specversion, id: id, source: source, type: type, time: time,
            subject: subject, datacontenttype: datacontenttype, dataversion: dataversion,
            correlationid: correlationid, causationid: causationid, traceparent: traceparent)
    }
}

/// The attributes of an envelope without its `data`: decoded first, to learn the type and
/// version before the payload is decoded.
public struct EnvelopeHeader: Codable, Sendable, Equatable {
    public var specversion: String
    public var id: UUID
    public var source: String
    public var type: EventType
    public var time: Date
    public var subject: String?
    public var datacontenttype: String?
    public var dataversion: Int
    public var correlationid: String
    public var causationid: String?
    public var traceparent: String?
}

extension UUID {
    /// A random (version 4) UUID from the system's generator (getrandom(2)). On Linux,
    /// `UUID()` opens and reads /dev/urandom each time, which a request path that mints
    /// several ids per call notices.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        var bytes = (
            UInt8(truncatingIfNeeded: high >> 56), UInt8(truncatingIfNeeded: high >> 48),
            UInt8(truncatingIfNeeded: high >> 40), UInt8(truncatingIfNeeded: high >> 32),
            UInt8(truncatingIfNeeded: high >> 24), UInt8(truncatingIfNeeded: high >> 16),
            UInt8(truncatingIfNeeded: high >> 8), UInt8(truncatingIfNeeded: high),
            UInt8(truncatingIfNeeded: low >> 56), UInt8(truncatingIfNeeded: low >> 48),
            UInt8(truncatingIfNeeded: low >> 40), UInt8(truncatingIfNeeded: low >> 32),
            UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: low >> 16),
            UInt8(truncatingIfNeeded: low >> 8), UInt8(truncatingIfNeeded: low)
        )
        // RFC 9562: version 4 in the high nibble of byte 6, variant 10 in the top bits of byte 8.
        bytes.6 = (bytes.6 & 0x0F) | 0x40
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return UUID(uuid: bytes)
    }
}
