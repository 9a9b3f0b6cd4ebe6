import Foundation

/// Why bytes could not become an event. Each case is a distinct dead-letter reason.
public enum EnvelopeDecodingError: Error, Equatable, CustomStringConvertible {
    /// Not a CloudEvents JSON document with the attributes Kindred needs.
    case malformed(String)
    /// A well-formed envelope of a type the registry does not know.
    case unknownType(EventType)
    /// A known type at a `dataversion` the consumer does not accept.
    case unacceptedVersion(EventType, Int)
    /// The header was fine but `data` does not match the type's schema.
    case invalidData(EventType, String)
    /// The envelope is of another type than the one expected here.
    case unexpectedType(expected: EventType, actual: EventType)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed envelope: \(why)"
        case .unknownType(let type): "unknown event type \(type)"
        case .unacceptedVersion(let type, let version):
            "unaccepted dataversion \(version) of \(type)"
        case .invalidData(let type, let why): "invalid data for \(type): \(why)"
        case .unexpectedType(let expected, let actual): "expected \(expected), got \(actual)"
        }
    }

    /// Every `reasonCode`: what a consumer says of a message before any handler ran.
    public static let reasonCodes: Set<String> = [
        "malformed", "unknown-type", "unaccepted-version", "invalid-data", "unexpected-type",
    ]

    /// A short machine-readable reason, used as the dead-letter reason header.
    public var reasonCode: String {
        switch self {
        case .malformed: "malformed"
        case .unknownType: "unknown-type"
        case .unacceptedVersion: "unaccepted-version"
        case .invalidData: "invalid-data"
        case .unexpectedType: "unexpected-type"
        }
    }
}

/// Encodes envelopes to bytes and decodes them back, checking type and version against
/// the registry.
public struct EnvelopeCodec: Sendable {
    public init() {}

    /// The envelope as CloudEvents JSON: the attributes written by hand, `data` by
    /// JSONEncoder (the same bytes JSONEncoder writes for the whole envelope).
    public func encode<E: Event>(_ envelope: Envelope<E>) throws -> [UInt8] {
        try EnvelopeJSON.encode(envelope, dataEncoder: KindredJSON.sharedEncoder)
    }

    /// Decodes only the header, checking the type is registered and the version accepted.
    public func decodeHeader(_ bytes: [UInt8]) throws(EnvelopeDecodingError) -> EnvelopeHeader {
        if let (header, _, _) = EnvelopeJSON.header(of: bytes) {
            try check(header)
            return header
        }
        let header: EnvelopeHeader
        do {
            header = try KindredJSON.sharedDecoder.decode(EnvelopeHeader.self, from: Data(bytes))
        } catch {
            throw .malformed(Self.explain(error))
        }
        try check(header)
        return header
    }

    /// The checks of a decoded header: CloudEvents 1.0, a registered type, an accepted version.
    private func check(_ header: EnvelopeHeader) throws(EnvelopeDecodingError) {
        guard header.specversion == "1.0" else {
            throw .malformed("specversion \(header.specversion) is not 1.0")
        }
        guard let descriptor = EventRegistry.descriptor(for: header.type) else {
            throw .unknownType(header.type)
        }
        guard descriptor.acceptedVersions.contains(header.dataversion) else {
            throw .unacceptedVersion(header.type, header.dataversion)
        }
    }

    /// Decodes a whole envelope of the expected type, in one pass over the bytes when it is
    /// good; only a bad one is read again, to say exactly what is wrong with it.
    public func decode<E: Event>(_: E.Type, from bytes: [UInt8]) throws(EnvelopeDecodingError)
        -> Envelope<E>
    {
        if let envelope = EnvelopeJSON.decode(E.self, from: bytes, dataDecoder: KindredJSON.sharedDecoder)
            ?? (try? KindredJSON.sharedDecoder.decode(Envelope<E>.self, from: Data(bytes)))
        {
            try check(envelope.header)
            try Self.expect(E.self, header: envelope.header)
            return envelope
        }
        // Both readings failed: Foundation's again, this time for what it says is wrong.
        let header = try decodeHeader(bytes)
        try Self.expect(E.self, header: header)
        return try foundationDecode(E.self, from: bytes, header: header)
    }

    /// Decodes a whole envelope whose header `decodeHeader` already checked.
    public func decode<E: Event>(_: E.Type, from bytes: [UInt8], header: EnvelopeHeader)
        throws(EnvelopeDecodingError) -> Envelope<E>
    {
        try Self.expect(E.self, header: header)
        if let envelope = EnvelopeJSON.decode(E.self, from: bytes, dataDecoder: KindredJSON.sharedDecoder) {
            return envelope
        }
        return try foundationDecode(E.self, from: bytes, header: header)
    }

    private static func expect<E: Event>(_: E.Type, header: EnvelopeHeader) throws(EnvelopeDecodingError) {
        guard header.type == E.eventType else {
            throw .unexpectedType(expected: E.eventType, actual: header.type)
        }
    }

    /// The whole envelope read by JSONDecoder, whose error names what is wrong with `data`.
    private func foundationDecode<E: Event>(_: E.Type, from bytes: [UInt8], header: EnvelopeHeader)
        throws(EnvelopeDecodingError) -> Envelope<E>
    {
        do {
            return try KindredJSON.sharedDecoder.decode(Envelope<E>.self, from: Data(bytes))
        } catch {
            throw .invalidData(header.type, Self.explain(error))
        }
    }

    /// A one-line explanation of a decoding error that names the JSON path.
    public static func explain(_ error: any Error) -> String {
        guard let decodingError = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty
                ? "(root)"
                : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }
                    .joined(separator: ".")
        }
        switch decodingError {
        case .keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "not JSON" : "invalid value at \(path(context.codingPath))"
        @unknown default:
            return "\(decodingError)"
        }
    }
}
