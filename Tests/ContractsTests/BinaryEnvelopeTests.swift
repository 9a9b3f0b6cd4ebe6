import Foundation
import Testing

@testable import Contracts

/// A binary event for these tests only: bytes, nothing else.
struct SampleBlob: BinaryEvent {
    static let eventType: EventType = "SampleBlob"
    static let dataVersion = 1
    var bytes: [UInt8]
}

/// Binary data travels in `data_base64`, never `data`, both on the hand-written path and
/// through Foundation, as CloudEvents' structured JSON format prescribes.
@Suite("Binary payloads in data_base64")
struct BinaryEnvelopeTests {
    func envelope(_ bytes: [UInt8]) -> Envelope<SampleBlob> {
        var envelope = Envelope(
            source: .gateway, time: Date(timeIntervalSince1970: 1_795_000_000.5), subject: UUID().uuidString,
            data: SampleBlob(bytes: bytes), correlationID: "req-1", causationID: "cause")
        envelope.datacontenttype = "image/png"
        return envelope
    }

    @Test("written as JSONEncoder writes it: data_base64 and the bytes' media type, no data")
    func encoding() throws {
        var random = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 3, 1000, 100_003] {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            let original = envelope(bytes)
            let written = try EnvelopeJSON.encode(original, dataEncoder: KindredJSON.sharedEncoder)
            #expect(written == Array(try KindredJSON.sharedEncoder.encode(original)))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(written)) as? [String: Any])
            #expect(object["data"] == nil)
            #expect(object["data_base64"] as? String == Data(bytes).base64EncodedString())
            #expect(object["datacontenttype"] as? String == "image/png")

            let read = try #require(
                EnvelopeJSON.decode(SampleBlob.self, from: written, dataDecoder: KindredJSON.sharedDecoder))
            #expect(read == original)
            #expect(try KindredJSON.sharedDecoder.decode(Envelope<SampleBlob>.self, from: Data(written)) == original)
        }
    }

    @Test("a binary type under data, or JSON data under data_base64, or both, is not read the fast way")
    func mismatches() throws {
        let written = try EnvelopeJSON.encode(envelope([1, 2, 3]), dataEncoder: KindredJSON.sharedEncoder)
        let text = String(decoding: written, as: UTF8.self)
        let underData = Array(text.replacingOccurrences(of: "\"data_base64\"", with: "\"data\"").utf8)
        #expect(EnvelopeJSON.decode(SampleBlob.self, from: underData, dataDecoder: KindredJSON.sharedDecoder) == nil)
        #expect(throws: DecodingError.self) {
            try KindredJSON.sharedDecoder.decode(Envelope<SampleBlob>.self, from: Data(underData))
        }
        let both = Array(
            text.replacingOccurrences(of: "\"datacontenttype\"", with: "\"data\":{},\"datacontenttype\"").utf8)
        #expect(EnvelopeJSON.header(of: both) == nil, "data and data_base64 together")
        let notBase64 = Array(text.replacingOccurrences(of: "AQID", with: "!!!!").utf8)
        #expect(EnvelopeJSON.decode(SampleBlob.self, from: notBase64, dataDecoder: KindredJSON.sharedDecoder) == nil)
        #expect(throws: DecodingError.self) {
            try KindredJSON.sharedDecoder.decode(Envelope<SampleBlob>.self, from: Data(notBase64))
        }
        // A JSON event never reads data_base64.
        let profile = Envelope(
            source: .gateway, time: Date(), subject: nil, data: ProfileRequested(userId: UUID()), correlationID: "c")
        let json = String(decoding: try EnvelopeCodec().encode(profile), as: UTF8.self)
        let renamed = Array(json.replacingOccurrences(of: "\"data\"", with: "\"data_base64\"").utf8)
        #expect(
            EnvelopeJSON.decode(ProfileRequested.self, from: renamed, dataDecoder: KindredJSON.sharedDecoder) == nil)
    }
}
