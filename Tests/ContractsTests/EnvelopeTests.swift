import Contracts
import Foundation
import Testing

@Suite("Envelope, codec and registry")
struct EnvelopeTests {
    let time = Date(timeIntervalSince1970: 1_795_000_000.5)
    let userID = UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF")!
    let eventID = UUID(uuidString: "0E984725-C51C-4BF4-9960-E1C80E27ABA0")!

    var envelope: Envelope<UserRegistered> {
        Envelope(
            id: eventID, source: .gateway, time: time, subject: userID.uuidString,
            data: UserRegistered(userId: userID, email: "ada@example.com", registeredAt: time),
            correlationID: "req-1", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    }

    @Test("an envelope encodes to the golden CloudEvents document")
    func golden() throws {
        let json = String(decoding: try EnvelopeCodec().encode(envelope), as: UTF8.self)
        let expected =
            #"{"correlationid":"req-1","data":{"email":"ada@example.com","registeredAt":"2026-11-18T11:06:40.500Z","#
            + #""sequence":1,"userId":"6F9619FF-8B86-D011-B42D-00C04FC964FF"},"datacontenttype":"application/json","#
            + #""dataversion":1,"id":"0E984725-C51C-4BF4-9960-E1C80E27ABA0","source":"/kindred/gateway","#
            + #""specversion":"1.0","subject":"6F9619FF-8B86-D011-B42D-00C04FC964FF","#
            + #""time":"2026-11-18T11:06:40.500Z","#
            + #""traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","type":"UserRegistered"}"#
        #expect(json == expected)
    }

    @Test("an envelope survives a round trip")
    func roundTrip() throws {
        let codec = EnvelopeCodec()
        let decoded = try codec.decode(UserRegistered.self, from: try codec.encode(envelope))
        #expect(decoded == envelope)
    }

    @Test("an event caused by another keeps its correlation and names its cause")
    func causation() {
        let created = Envelope(
            causedBy: envelope, source: .profile, time: time, subject: envelope.subject,
            data: ProfileCreated(userId: userID, sequence: 1))
        #expect(created.correlationid == "req-1")
        #expect(created.causationid == eventID.uuidString)
        #expect(created.traceparent == envelope.traceparent)
        #expect(created.source == "/kindred/profile")
        #expect(created.type == "ProfileCreated")
    }

    @Test("bytes that are not an envelope are malformed")
    func garbage() {
        #expect(throws: EnvelopeDecodingError.self) { try EnvelopeCodec().decodeHeader(Array("not json".utf8)) }
        do {
            _ = try EnvelopeCodec().decodeHeader(Array(#"{"specversion":"1.0"}"#.utf8))
            Issue.record("decoded an envelope without attributes")
        } catch {
            #expect(error.reasonCode == "malformed")
        }
    }

    @Test("an unknown type and an unaccepted version are told apart")
    func unknownTypeAndVersion() throws {
        let document = String(decoding: try EnvelopeCodec().encode(envelope), as: UTF8.self)
        let unknownType = document.replacingOccurrences(
            of: #""type":"UserRegistered""#, with: #""type":"UserVanished""#)
        let unknownVersion = document.replacingOccurrences(of: #""dataversion":1"#, with: #""dataversion":7"#)
        #expect(throws: EnvelopeDecodingError.unknownType("UserVanished")) {
            try EnvelopeCodec().decodeHeader(Array(unknownType.utf8))
        }
        #expect(throws: EnvelopeDecodingError.unacceptedVersion("UserRegistered", 7)) {
            try EnvelopeCodec().decodeHeader(Array(unknownVersion.utf8))
        }
    }

    @Test("data that does not match the schema names the field")
    func invalidData() throws {
        let document = String(decoding: try EnvelopeCodec().encode(envelope), as: UTF8.self)
        let broken = document.replacingOccurrences(of: #""sequence":1"#, with: #""sequence":"one""#)
        #expect(throws: EnvelopeDecodingError.invalidData("UserRegistered", "wrong type at data.sequence")) {
            try EnvelopeCodec().decode(UserRegistered.self, from: Array(broken.utf8))
        }
        #expect(throws: EnvelopeDecodingError.unexpectedType(expected: "ProfileCreated", actual: "UserRegistered")) {
            try EnvelopeCodec().decode(ProfileCreated.self, from: Array(document.utf8))
        }
    }

    @Test("times keep milliseconds and parse with or without them")
    func timestamps() {
        #expect(Timestamp.format(time) == "2026-11-18T11:06:40.500Z")
        #expect(Timestamp.parse("2026-11-18T11:06:40Z") == Date(timeIntervalSince1970: 1_795_000_000))
        #expect(Timestamp.parse("yesterday") == nil)
    }
}

@Suite("Registry")
struct RegistryTests {
    @Test("wire names are explicit constants, unique, and every request has a consumer")
    func wireNames() {
        let types = EventRegistry.all.map(\.type.rawValue)
        #expect(Set(types).count == types.count)
        #expect(UserRegistered.eventType.rawValue == "UserRegistered")
        #expect(ProfileUpdateRequested.eventType.rawValue == "ProfileUpdateRequested")
        for descriptor in EventRegistry.all where descriptor.role == .request {
            #expect(descriptor.consumers.count == 1, "\(descriptor.type) must have exactly one answering service")
        }
        for descriptor in EventRegistry.all where descriptor.role == .reply {
            #expect(descriptor.consumers.isEmpty, "\(descriptor.type) goes to reply_to, not to queues")
        }
    }

    @Test("queues are named <EventType>.<service>")
    func queues() {
        #expect(EventRegistry.queueName(for: "UserRegistered", consumer: .profile) == "UserRegistered.profile")
        #expect(EventRegistry.deadQueueName(for: "UserRegistered.profile") == "UserRegistered.profile.dead")
        let profileQueues = EventRegistry.consumed(by: .profile).map(\.type.rawValue).sorted()
        #expect(
            profileQueues == [
                "AccountDeletionRequested", "AttachmentAssessmentSubmitted", "GuestRegistered",
                "LocationUpdateRequested", "PhotoApproved", "PhotoRejected", "PhotoRemoved", "PhotosReordered",
                "ProfileRequested", "ProfileUpdateRequested", "ProfileViewRequested", "ReportDecisionRequested",
                "ReportFiled", "ReportsListRequested", "UserBlocked", "UserRegistered", "UserUnblocked",
            ])
        #expect(
            EventRegistry.consumed(by: .media).map(\.type.rawValue).sorted() == [
                "AccountDeletionRequested", "PhotoDecisionRequested", "PhotoRemovalRequested",
                "PhotoReviewListRequested", "PhotoUploadRequested", "PhotosListRequested", "PhotosReorderRequested",
            ])
        #expect(
            EventRegistry.consumed(by: .gateway).map(\.type) == [
                "UserSuspended", "UserDataErased", "UserBanned", "UserReinstated", "AccountRoleChanged",
            ])
        #expect(EventRegistry.consumed(by: .payment).isEmpty)
    }
}

@Suite("Event ids")
struct EventIDTests {
    @Test("random ids are version 4, RFC 9562 variant, and do not repeat")
    func randomIDs() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            #expect(id.uuid.6 >> 4 == 4)
            #expect(id.uuid.8 >> 6 == 0b10)
            #expect(UUID(uuidString: id.uuidString) == id)
        }
    }
}
