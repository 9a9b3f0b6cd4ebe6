import Foundation
import Testing

@testable import Contracts

/// The codec writes and reads the envelope's attributes by hand; these hold it to exactly
/// what JSONEncoder and JSONDecoder do with the same settings.
@Suite("Envelope JSON by hand, the same as Foundation's")
struct EnvelopeJSONTests {
    let codec = EnvelopeCodec()
    static let hostile: String = {
        var text = ""
        for scalar in 0..<0x80 { text.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        return text + "é ✓ 🎉 \u{2028} \u{FEFF} a/b \\ \" '"
    }()

    func envelopes() -> [Envelope<UserRegistered>] {
        let user = UUID()
        let time = Date(timeIntervalSince1970: 1_795_000_000.123)
        let data = UserRegistered(userId: user, email: "a/b+\"é\"@example.com", registeredAt: time)
        return [
            Envelope(source: .gateway, time: time, subject: user.uuidString, data: data, correlationID: "req-1"),
            Envelope(source: .gateway, time: time, subject: nil, data: data, correlationID: ""),
            Envelope(
                source: .gateway, time: time, subject: Self.hostile, data: data, correlationID: Self.hostile,
                causationID: Self.hostile, traceparent: Self.hostile),
            Envelope(
                source: .profile, time: Date(), subject: "s", data: data, correlationID: "c",
                causationID: UUID().uuidString, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ]
    }

    @Test("encoding writes the bytes JSONEncoder writes, whatever the attribute strings hold")
    func encodesAsFoundation() throws {
        for envelope in envelopes() {
            #expect(try codec.encode(envelope) == Array(try KindredJSON.sharedEncoder.encode(envelope)))
        }
        let request = Envelope(
            source: .gateway, time: Date(), subject: "x", data: ProfileRequested(userId: UUID()), correlationID: "c")
        #expect(try codec.encode(request) == Array(try KindredJSON.sharedEncoder.encode(request)))
    }

    @Test("what the codec writes it reads by hand (without falling back to Foundation)")
    func readsItsOwnByHand() throws {
        for envelope in envelopes() {
            let bytes = try codec.encode(envelope)
            let hasEscapes = [envelope.subject, envelope.correlationid, envelope.causationid, envelope.traceparent]
                .contains { $0 == Self.hostile }
            #expect((EnvelopeJSON.header(of: bytes) != nil) == !hasEscapes)
            if !hasEscapes {
                #expect(
                    EnvelopeJSON.decode(UserRegistered.self, from: bytes, dataDecoder: KindredJSON.sharedDecoder)
                        == envelope.withTimeAsWritten)
            }
        }
    }

    @Test("decoding gives what JSONDecoder gives, for envelopes it reads by hand and those it leaves to Foundation")
    func decodesAsFoundation() throws {
        for envelope in envelopes() {
            let bytes = try codec.encode(envelope)
            let expected = try KindredJSON.sharedDecoder.decode(Envelope<UserRegistered>.self, from: Data(bytes))
            #expect(try codec.decode(UserRegistered.self, from: bytes) == expected)
            #expect(try codec.decodeHeader(bytes) == expected.header)
            #expect(try codec.decode(UserRegistered.self, from: bytes, header: expected.header) == expected)
        }
    }

    @Test(
        "unusual but valid documents decode as Foundation decodes them",
        arguments: [
            // Whitespace and another member order.
            #" { "type" : "ProfileRequested" , "specversion":"1.0", "id":"0E984725-C51C-4BF4-9960-E1C80E27ABA0","#
                + #" "source":"/kindred/gateway", "time":"2026-11-18T11:06:40.500Z", "dataversion":1,"#
                + #" "correlationid":"c", "datacontenttype":"application/json","#
                + #" "data": { "userId" : "6F9619FF-8B86-D011-B42D-00C04FC964FF" } } "#,
            // Nulls for the optional attributes, an unknown member, a lowercase id.
            #"{"type":"ProfileRequested","specversion":"1.0","id":"0e984725-c51c-4bf4-9960-e1c80e27aba0","#
                + #""source":"/kindred/gateway","time":"2026-11-18T11:06:40Z","dataversion":1,"subject":null,"#
                + #""causationid":null,"traceparent":null,"extra":[1,{"a":null}],"correlationid":"c","#
                + #""datacontenttype":"application/json","data":{"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF"}}"#,
            // Escapes in the attributes (left to Foundation).
            #"{"type":"ProfileRequested","specversion":"1.0","id":"0E984725-C51C-4BF4-9960-E1C80E27ABA0","#
                + #""source":"\/kindred\/gateway","time":"2026-11-18T11:06:40.500Z","dataversion":1,"#
                + #""correlationid":"a\"b\u00e9\n","datacontenttype":"application/json","#
                + #""data":{"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF"}}"#,
        ])
    func unusual(_ json: String) throws {
        let bytes = Array(json.utf8)
        let expected = try KindredJSON.sharedDecoder.decode(Envelope<ProfileRequested>.self, from: Data(bytes))
        #expect(try codec.decode(ProfileRequested.self, from: bytes) == expected)
        #expect(try codec.decodeHeader(bytes) == expected.header)
    }

    @Test(
        "documents Foundation refuses are refused, with the same reason",
        arguments: [
            // dataversion as a string, a missing id, a bad time, a bad id, data of the wrong shape.
            #"{"type":"ProfileRequested","specversion":"1.0","id":"0E984725-C51C-4BF4-9960-E1C80E27ABA0","source":"s","time":"2026-11-18T11:06:40Z","dataversion":"1","correlationid":"c","datacontenttype":"application/json","data":{"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF"}}"#,
            #"{"type":"ProfileRequested","specversion":"1.0","source":"s","time":"2026-11-18T11:06:40Z","dataversion":1,"correlationid":"c","datacontenttype":"application/json","data":{"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF"}}"#,
            #"{"type":"ProfileRequested","specversion":"1.0","id":"0E984725-C51C-4BF4-9960-E1C80E27ABA0","source":"s","time":"yesterday","dataversion":1,"correlationid":"c","datacontenttype":"application/json","data":{"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF"}}"#,
            #"{"type":"ProfileRequested","specversion":"1.0","id":"not-a-uuid","source":"s","time":"2026-11-18T11:06:40Z","dataversion":1,"correlationid":"c","datacontenttype":"application/json","data":{"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF"}}"#,
            #"{"type":"ProfileRequested","specversion":"1.0","id":"0E984725-C51C-4BF4-9960-E1C80E27ABA0","source":"s","time":"2026-11-18T11:06:40Z","dataversion":1,"correlationid":"c","datacontenttype":"application/json","data":{"userId":42}}"#,
            #"{"type":"ProfileRequested","specversion":"1.0","id":"0E984725-C51C-4BF4-9960-E1C80E27ABA0","source":"s","time":"2026-11-18T11:06:40Z","dataversion":1,"correlationid":"c","data":{"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF"}}"#,
        ])
    func refused(_ json: String) {
        let bytes = Array(json.utf8)
        #expect(throws: EnvelopeDecodingError.self) { try codec.decode(ProfileRequested.self, from: bytes) }
    }
}

extension Envelope {
    /// The envelope with its time as it reads back (RFC 3339 keeps milliseconds).
    fileprivate var withTimeAsWritten: Envelope {
        var copy = self
        copy.time = Timestamp.parse(Timestamp.format(time)) ?? time
        if var registered = copy.data as? UserRegistered {
            registered.registeredAt =
                Timestamp.parse(Timestamp.format(registered.registeredAt)) ?? registered.registeredAt
            copy.data = registered as? Payload ?? copy.data
        }
        return copy
    }
}
