import Foundation

/// The envelope's attributes written and read by hand; only `data` goes through
/// JSONEncoder and JSONDecoder.
///
/// Every request and reply is an envelope, and its eleven attributes cost Foundation's
/// coders more than most events' `data` (a request's is one id). The bytes written are
/// exactly what JSONEncoder writes with `KindredJSON`'s settings (sorted keys, slashes
/// as they are, control characters escaped as Foundation does); the golden test and
/// `EnvelopeJSONTests` hold both to that. Reading takes the common case only: an object
/// whose attribute strings have no escapes, each attribute once, of the right JSON types.
/// For anything else it answers nil and the codec reads the envelope with JSONDecoder,
/// which also says exactly what is wrong.
enum EnvelopeJSON {
    static func encode<E: Event>(_ envelope: Envelope<E>, dataEncoder: JSONEncoder) throws -> [UInt8] {
        // Binary data is base64 in `data_base64`, which sorts after `data` would and before
        // `datacontenttype`: the key order JSONEncoder writes either way.
        let binary = envelope.data as? any BinaryEvent
        // A base64 string is a JSON string as it is: no character of it needs escaping.
        let data = try binary.map { Data($0.bytes).base64EncodedData() } ?? dataEncoder.encode(envelope.data)
        var writer = Writer(capacity: data.count + 420)
        if let causation = envelope.causationid { writer.member("causationid", string: causation) }
        writer.member("correlationid", string: envelope.correlationid)
        if binary != nil {
            writer.key("data_base64")
            writer.bytes.append(UInt8(ascii: "\""))
            writer.bytes.append(contentsOf: data)
            writer.bytes.append(UInt8(ascii: "\""))
        } else {
            writer.key("data")
            writer.bytes.append(contentsOf: data)
        }
        writer.member("datacontenttype", string: envelope.datacontenttype)
        writer.key("dataversion")
        writer.bytes.append(contentsOf: String(envelope.dataversion).utf8)
        writer.member("id", string: envelope.id.uuidString)
        writer.member("source", string: envelope.source)
        writer.member("specversion", string: envelope.specversion)
        if let subject = envelope.subject { writer.member("subject", string: subject) }
        writer.member("time", string: Timestamp.format(envelope.time))
        if let traceparent = envelope.traceparent { writer.member("traceparent", string: traceparent) }
        writer.member("type", string: envelope.type.rawValue)
        writer.bytes.append(UInt8(ascii: "}"))
        return writer.bytes
    }

    /// The header of an envelope and where its `data` is, or nil for anything but the
    /// common case (see the type's comment). `datacontenttype` may be absent here, as the
    /// header allows; a whole envelope needs it.
    static func header(of bytes: [UInt8]) -> (header: EnvelopeHeader, data: Range<Int>?, binary: Bool)? {
        guard let members = JSONScanner.members(in: bytes) else { return nil }
        var fields = Fields()
        for (key, value) in members {
            guard let field = Field(bytes[key]) else { continue }
            guard !fields.seen.contains(field) else { return nil }
            fields.seen.insert(field)
            if field == .data || field == .dataBase64 {
                // One or the other, never both (CloudEvents).
                guard fields.data == nil else { return nil }
                fields.data = value
                fields.binary = field == .dataBase64
                continue
            }
            guard let parsed = Value(bytes, value) else { return nil }
            switch (field, parsed) {
            case (.dataversion, .int(let number)): fields.dataversion = number
            case (.dataversion, _): return nil
            case (_, .null) where field.isOptional: break
            case (_, .string(let text)): fields.strings[field] = text
            default: return nil
            }
        }
        guard let specversion = fields.strings[.specversion],
            let id = fields.strings[.id].flatMap(UUID.init(uuidString:)),
            let source = fields.strings[.source], let type = fields.strings[.type],
            let time = fields.strings[.time].flatMap(Timestamp.parse), let dataversion = fields.dataversion,
            let correlationid = fields.strings[.correlationid]
        else { return nil }
        let header = EnvelopeHeader(
            specversion: specversion, id: id, source: source, type: EventType(rawValue: type), time: time,
            subject: fields.strings[.subject], datacontenttype: fields.strings[.datacontenttype],
            dataversion: dataversion, correlationid: correlationid, causationid: fields.strings[.causationid],
            traceparent: fields.strings[.traceparent])
        return (header, fields.data, fields.binary)
    }

    /// A whole envelope, or nil for anything but the common case, or `data` that does not
    /// decode as `E` (the slow path says why).
    static func decode<E: Event>(_: E.Type, from bytes: [UInt8], dataDecoder: JSONDecoder) -> Envelope<E>? {
        guard let (header, range, isBinary) = header(of: bytes), let range,
            let datacontenttype = header.datacontenttype
        else { return nil }
        if let binary = E.self as? any BinaryEvent.Type {
            // The base64 text between the quotes, decoded straight from the bytes; a member
            // called `data` where `data_base64` is due (or the other way) goes the slow way.
            guard isBinary, bytes[range].first == UInt8(ascii: "\""), range.count >= 2,
                let decoded = Data(base64Encoded: Data(bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])),
                let data = binary.init(bytes: Array(decoded)) as? E
            else { return nil }
            return Envelope(header: header, datacontenttype: datacontenttype, data: data)
        }
        guard !isBinary, let data = try? dataDecoder.decode(E.self, from: Data(bytes[range])) else {
            return nil
        }
        return Envelope(header: header, datacontenttype: datacontenttype, data: data)
    }

    private enum Field: CaseIterable {
        case specversion, id, source, type, time, subject, datacontenttype, dataversion, correlationid
        case causationid, traceparent, data, dataBase64

        private static let names: [(Field, [UInt8])] = allCases.map {
            ($0, Array(($0 == .dataBase64 ? "data_base64" : "\($0)").utf8))
        }

        init?(_ key: ArraySlice<UInt8>) {
            guard let found = Self.names.first(where: { $0.1.elementsEqual(key) }) else { return nil }
            self = found.0
        }

        var isOptional: Bool { self == .subject || self == .causationid || self == .traceparent }
    }

    private struct Fields {
        var seen: Set<Field> = []
        var strings: [Field: String] = [:]
        var dataversion: Int?
        var data: Range<Int>?
        var binary = false
    }

    /// A header attribute's value: a string without escapes, a whole number, or null.
    private enum Value {
        case string(String)
        case int(Int)
        case null

        init?(_ bytes: [UInt8], _ range: Range<Int>) {
            guard let first = bytes[range].first else { return nil }
            if first == UInt8(ascii: "\"") {
                let content = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
                guard !content.contains(UInt8(ascii: "\\")) else { return nil }
                self = .string(String(decoding: content, as: UTF8.self))
            } else if first == UInt8(ascii: "n") {
                self = .null
            } else {
                // Digits with an optional minus sign only; 1.0 or 1e0 go the slow way.
                let digits = bytes[range]
                guard digits.allSatisfy({ $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) }),
                    let number = Int(String(decoding: digits, as: UTF8.self))
                else { return nil }
                self = .int(number)
            }
        }
    }

    private struct Writer {
        private static let hexDigits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8]
        private var first = true

        init(capacity: Int) {
            bytes = [UInt8(ascii: "{")]
            bytes.reserveCapacity(capacity)
        }

        mutating func key(_ name: StaticString) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        mutating func member(_ name: StaticString, string value: String) {
            key(name)
            string(value)
        }

        /// A JSON string as Foundation's JSONEncoder writes it: `"` and `\` escaped, the
        /// control characters as \b \t \n \f \r or \u00xx, everything else as it is.
        mutating func string(_ value: String) {
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x00..<0x20:
                    bytes.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    ])
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                default: bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }
}

extension Envelope {
    /// An envelope from its decoded header and data.
    init(header: EnvelopeHeader, datacontenttype: String, data: Payload) {
        self.specversion = header.specversion
        self.id = header.id
        self.source = header.source
        self.type = header.type
        self.time = header.time
        self.subject = header.subject
        self.datacontenttype = datacontenttype
        self.dataversion = header.dataversion
        self.correlationid = header.correlationid
        self.causationid = header.causationid
        self.traceparent = header.traceparent
        self.data = data
    }
}
