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
        id: UUID = UUID(), source: ServiceName, time: Date, subject: String?, data: Payload,
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
        data: Payload, id: UUID = UUID()
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
