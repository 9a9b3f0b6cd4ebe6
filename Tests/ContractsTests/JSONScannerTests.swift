import Contracts
import Foundation
import Testing

@Suite("JSON scanner: a member's bytes without building the document")
struct JSONScannerTests {
    func member(_ key: String, _ json: String) -> (JSONScanner.Member, String?) {
        let bytes = Array(json.utf8)
        let found = JSONScanner.member(key, in: bytes)
        if case .found(let range) = found { return (found, String(decoding: bytes[range], as: UTF8.self)) }
        return (found, nil)
    }

    @Test("finds the value of a top-level member, whatever it is, and only at the top level")
    func finds() {
        #expect(
            member("data", #"{"a":1,"data":{"x":[1,2,{"data":3}],"y":"}"},"z":null}"#).1
                == #"{"x":[1,2,{"data":3}],"y":"}"}"#)
        #expect(
            member("data", #" { "data" : [ 1 , -2.5e+3 , true , false , null ] } "#).1
                == "[ 1 , -2.5e+3 , true , false , null ]")
        #expect(
            member("data", #"{"data":"a \"quoted\" \u00e9 \\ / string"}"#).1 == #""a \"quoted\" \u00e9 \\ / string""#)
        #expect(member("data", #"{"data":0}"#).1 == "0")
        #expect(member("data", #"{"data":"héllo ✓ 🎉"}"#).1 == #""héllo ✓ 🎉""#)
        #expect(member("data", #"{"other":{"data":1}}"#).0 == .absent)
        #expect(member("data", "{}").0 == .absent)
    }

    @Test("a key written with escapes, or given twice, is left to the slow path")
    func unsupported() {
        #expect(member("data", #"{"d\u0061ta":1}"#).0 == .unsupported)
        #expect(member("data", #"{"data":1,"data":2}"#).0 == .unsupported)
    }

    @Test(
        "anything that is not exactly one JSON object is malformed",
        arguments: [
            "", "[]", "\"data\"", "{", "{\"data\":1", "{\"data\":1,}", "{\"data\" 1}", "{\"data\":01}",
            "{\"data\":1.}", "{\"data\":.5}", "{\"data\":1e}", "{\"data\":-}", "{\"data\":+1}", "{\"data\":tru}",
            "{\"data\":nul}", "{\"data\":\"a\\x\"}", "{\"data\":\"\\u12G4\"}", "{\"data\":\"tab\there\"}",
            "{\"data\":\"line\nbreak\"}", "{\"data\":1} x", "{\"data\":1}{}", "{data:1}", "{\"data\":[1,]}",
            "{\"data\":[1 2]}", "{\"data\":{\"a\"}}", "{\"data\":{1:2}}", "{\"data\":'x'}", "{\"data\":NaN}",
        ])
    func malformed(_ json: String) {
        #expect(member("data", json).0 == .malformed)
    }

    @Test("invalid UTF-8 inside a string is malformed")
    func invalidUTF8() {
        for bad: [UInt8] in [
            [0xFF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3],
        ] {
            let bytes = Array(#"{"data":""#.utf8) + bad + Array(#""}"#.utf8)
            #expect(JSONScanner.member("data", in: bytes) == .malformed)
        }
    }

    @Test("nesting deeper than the limit is refused, at the limit it is read")
    func depth() {
        let deep =
            String(repeating: "[", count: JSONScanner.maxDepth + 1)
            + String(repeating: "]", count: JSONScanner.maxDepth + 1)
        #expect(member("data", #"{"data":\#(deep)}"#).0 == .malformed)
        let limit =
            String(repeating: "[", count: JSONScanner.maxDepth) + String(repeating: "]", count: JSONScanner.maxDepth)
        #expect(member("data", #"{"data":\#(limit)}"#).1 == limit)
    }

    @Test("on envelopes the codec writes, the member is what JSONSerialization reads there")
    func agreesWithFoundation() throws {
        let codec = EnvelopeCodec()
        let user = UUID()
        let samples: [[UInt8]] = [
            try codec.encode(
                Envelope(
                    source: .profile, time: Date(), subject: user.uuidString,
                    data: ProfileCreated(userId: user, sequence: 7), correlationID: "c/1 \"quoted\"")),
            try codec.encode(
                Envelope(
                    source: .gateway, time: Date(), subject: user.uuidString,
                    data: UserRegistered(userId: user, email: "a/b+é@example.com", registeredAt: Date()),
                    correlationID: "x")),
        ]
        for body in samples {
            guard case .found(let range) = JSONScanner.member("data", in: body) else {
                Issue.record("no data member found")
                continue
            }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            let expected = try JSONSerialization.data(
                withJSONObject: try #require(object["data"]), options: [.sortedKeys, .withoutEscapingSlashes])
            let scanned = try JSONSerialization.data(
                withJSONObject: try JSONSerialization.jsonObject(with: Data(body[range])),
                options: [.sortedKeys, .withoutEscapingSlashes])
            #expect(scanned == expected)
        }
    }
}
