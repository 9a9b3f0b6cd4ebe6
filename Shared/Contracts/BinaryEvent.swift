import Foundation

/// An event whose `data` is bytes, not JSON: a photo. It travels as CloudEvents
/// prescribes for binary data in structured mode, base64 in `data_base64` (and no
/// `data`), with the bytes' media type as `datacontenttype`; everything else about it is
/// in the envelope's attributes (`subject`, `id`).
public protocol BinaryEvent: Event {
    var bytes: [UInt8] { get }
    init(bytes: [UInt8])
}

extension BinaryEvent {
    // As a Codable value the bytes are one base64 string: what `data_base64` holds.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let bytes = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not base64")
        }
        self.init(bytes: Array(bytes))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Data(bytes).base64EncodedString())
    }
}

extension Envelope {
    /// Whether `data` travels as `data_base64`.
    static var isBinary: Bool { Payload.self is any BinaryEvent.Type }

    enum CodingKeys: String, CodingKey {
        case specversion, id, source, type, time, subject, datacontenttype, dataversion, correlationid
        case causationid, traceparent, data
        case dataBase64 = "data_base64"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        specversion = try container.decode(String.self, forKey: .specversion)
        id = try container.decode(UUID.self, forKey: .id)
        source = try container.decode(String.self, forKey: .source)
        type = try container.decode(EventType.self, forKey: .type)
        time = try container.decode(Date.self, forKey: .time)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        datacontenttype = try container.decode(String.self, forKey: .datacontenttype)
        dataversion = try container.decode(Int.self, forKey: .dataversion)
        correlationid = try container.decode(String.self, forKey: .correlationid)
        causationid = try container.decodeIfPresent(String.self, forKey: .causationid)
        traceparent = try container.decodeIfPresent(String.self, forKey: .traceparent)
        data = try container.decode(Payload.self, forKey: Self.isBinary ? .dataBase64 : .data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(specversion, forKey: .specversion)
        try container.encode(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(type, forKey: .type)
        try container.encode(time, forKey: .time)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encode(datacontenttype, forKey: .datacontenttype)
        try container.encode(dataversion, forKey: .dataversion)
        try container.encode(correlationid, forKey: .correlationid)
        try container.encodeIfPresent(causationid, forKey: .causationid)
        try container.encodeIfPresent(traceparent, forKey: .traceparent)
        try container.encode(data, forKey: Self.isBinary ? .dataBase64 : .data)
    }
}
