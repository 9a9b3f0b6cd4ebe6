import Contracts
import Foundation
import Messaging
import OutboundHTTP
import SignedURLs
import TestSupport
import Testing

@testable import KindredCLI

/// Photos through the real gateway, media and profile services: uploads as bytes and as
/// forms, processing, signed URLs fetched from media's origin (and refused when tampered
/// with or expired), order, removal, the limits, the live stream, another user's view, and
/// account deletion; then moderation without auto-approval. In `WalkingSkeletonTests`,
/// whose tests run one at a time.
extension WalkingSkeletonTests {
    @Test("photos: upload, approval, signed URLs, order, removal, limits and deletion, through the gateway")
    func photoFlow() async throws {
        try await RunningSuite.run(overrides: ProfileFlows.overrides, logsOnFailure: [.gateway, .media, .profile]) {
            suite in
            try await PhotoFlows().ownPhotos(suite)
        }
    }

    @Test("photo moderation: review, approval, rejection with a reason, and near copies refused")
    func photoModeration() async throws {
        var overrides = ProfileFlows.overrides
        overrides[.media] = ["KINDRED_MEDIA_AUTO_APPROVE": "false"]
        try await RunningSuite.run(overrides: overrides, logsOnFailure: [.gateway, .media, .profile]) { suite in
            try await PhotoFlows().moderation(suite)
        }
    }
}

extension WalkingSkeletonTests {
    @Test("hostile photo events end in .dead with their reason, and media and profile keep working")
    func hostilePhotoEvents() async throws {
        try await RunningSuite.run(overrides: ProfileFlows.overrides, logsOnFailure: [.gateway, .media, .profile]) {
            suite in
            let broker = AMQPConnection(
                endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "hostile-photos",
                logger: TestEnvironment.logger("amqp"))
            defer { broker.close() }
            await broker.waitUntilConnected()
            let codec = EnvelopeCodec()
            let upload = Envelope(
                source: .gateway, time: Date(), subject: UUID().uuidString, data: PhotoUploadRequested.example,
                correlationID: "hostile-upload")
            let approval = Envelope(
                source: .media, time: Date(), subject: UUID().uuidString, data: PhotoApproved.example,
                correlationID: "hostile-approval")
            let uploadText = String(decoding: try codec.encode(upload), as: UTF8.self)
            let approvalText = String(decoding: try codec.encode(approval), as: UTF8.self)
            let hostile: [(queue: String, id: UUID, body: String, header: EnvelopeHeader)] = [
                // Not base64 where the bytes should be.
                (
                    "PhotoUploadRequested.media", upload.id,
                    uploadText.replacingOccurrences(
                        of: Data(PhotoUploadRequested.example.bytes).base64EncodedString(), with: "%%% not base64 %%%"),
                    upload.header
                ),
                // A position that is not a number.
                (
                    "PhotoApproved.profile", approval.id,
                    approvalText.replacingOccurrences(of: #""position":0"#, with: #""position":"first""#),
                    approval.header
                ),
            ]
            for message in hostile {
                var outgoing = OutgoingMessage.event(
                    body: Array(message.body.utf8), header: message.header, publisher: .gateway)
                outgoing.exchange = ""
                outgoing.routingKey = message.queue
                try await broker.publish(outgoing)
            }
            for message in hostile {
                let dead = try await broker.consume(queue: message.queue + ".dead", prefetch: 5000)
                var reason: String?
                for try await delivery in dead where delivery.properties.messageID == message.id.uuidString {
                    reason = delivery.properties.headers[DeadLetterHeader.reason]?.stringValue
                    broker.acknowledge(delivery)
                    break
                }
                #expect(reason != nil, "\(message.queue): not dead-lettered")
            }

            // Both still consume: a real upload is approved and shows on the profile.
            let flows = PhotoFlows()
            let owner = try await flows.profiles.register(suite, "after-hostile")
            let viewer = try await flows.profiles.register(suite, "after-hostile-viewer")
            try await flows.profiles.fillIn(suite, owner, name: "Owner")
            let shown = try await eventually {
                try await flows.profiles.send("GET", suite.gatewayURL + "/v1/profiles/\(owner.id)", token: viewer.token)
                    .status == 200
            }
            #expect(shown)
        }
    }
}

/// The steps of the photo tests, each a client's flow.
struct PhotoFlows {
    let profiles = ProfileFlows()
    var http: HTTPClient { profiles.http }

    /// Uploads `bytes` as `contentType`.
    func upload(
        _ suite: RunningSuite, token: String, _ bytes: [UInt8], contentType: String = "image/png",
        idempotencyKey: String? = nil
    ) async throws -> HTTPResponse {
        var headers = ["Authorization": "Bearer \(token)", "Content-Type": contentType]
        if let idempotencyKey { headers["Idempotency-Key"] = idempotencyKey }
        return try await http.send("POST", suite.gatewayURL + "/v1/media/photos", headers: headers, body: bytes)
    }

    /// A `multipart/form-data` body with the photo as its `photo` part, beside a caption.
    func form(_ bytes: [UInt8], boundary: String = "kindred-e2e-boundary") -> [UInt8] {
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nme\r\n".utf8)
        body += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n"
                .utf8)
        return body + bytes + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    /// The user's photo, once its status is no longer `processing`.
    func processed(_ suite: RunningSuite, token: String, _ photoID: String) async throws -> [String: Any] {
        var photo: [String: Any] = [:]
        let done = try await eventually(timeout: .seconds(30)) {
            let answer = try await profiles.send("GET", suite.gatewayURL + "/v1/media/photos/\(photoID)", token: token)
            photo = (try? profiles.json(answer)) ?? [:]
            return answer.status == 200 && photo["status"] as? String != "processing"
        }
        #expect(done, "photo \(photoID) is still processing: \(photo)")
        return photo
    }

    /// Uploads a new photo and waits until it is processed; returns its id.
    @discardableResult
    func givePhoto(_ suite: RunningSuite, token: String, expecting status: String = "approved") async throws -> String {
        let answer = try await upload(suite, token: token, TestImages.png())
        #expect(answer.status == 202, "\(answer.text)")
        let photoID = try #require(try profiles.json(answer)["photoId"] as? String)
        #expect(try await processed(suite, token: token, photoID)["status"] as? String == status)
        return photoID
    }

    func urls(of photo: [String: Any]) throws -> (display: String, thumbnail: String) {
        let urls = try #require(photo["urls"] as? [String: Any], "\(photo)")
        return (try #require(urls["display"] as? String), try #require(urls["thumbnail"] as? String))
    }

    func ownPhotos(_ suite: RunningSuite) async throws {
        let api = suite.gatewayURL + "/v1"
        let owner = try await profiles.register(suite, "photographer")
        let viewer = try await profiles.register(suite, "viewer")
        try await profiles.fillIn(suite, owner, name: "Owner", photo: false)
        try await profiles.fillIn(suite, viewer, name: "Viewer")
        #expect(
            try await profiles.send("GET", "\(api)/profiles/\(owner.id)", token: viewer.token).status == 404,
            "a profile without a photo is shown to nobody")

        // The live stream, open before the upload, hears the photo's story.
        let stream = try EventStreamReader(
            port: suite.ports[.gateway] ?? 0, path: "/v1/events", headers: ["Authorization": "Bearer \(owner.token)"])
        _ = await stream.next(timeout: .seconds(5))
        #expect(stream.status == 200)

        // As bytes, with metadata that must not survive, under an Idempotency-Key.
        let marked = TestImages.png(width: 800, height: 600, text: "GPS 48.858844 2.294351")
        let first = try await upload(suite, token: owner.token, marked, idempotencyKey: "photo-1")
        #expect(first.status == 202, "\(first.text)")
        let accepted = try profiles.json(first)
        let photoID = try #require(accepted["photoId"] as? String)
        #expect(accepted["status"] as? String == "processing")
        #expect(first.headers["location"] == "/v1/media/photos/\(photoID)")
        let replayed = try await upload(suite, token: owner.token, marked, idempotencyKey: "photo-1")
        #expect(replayed.headers["idempotent-replayed"] == "true" && replayed.body == first.body)
        #expect(replayed.headers["location"] == first.headers["location"])
        try await expectContinue(suite, token: viewer.token)

        let photo = try await processed(suite, token: owner.token, photoID)
        #expect(photo["status"] as? String == "approved", "\(photo)")
        #expect(photo["width"] as? Int == 800 && photo["height"] as? Int == 600)
        var heard: [String] = []
        for _ in 0..<10 {
            guard let frame = await stream.next(timeout: .seconds(10)) else { break }
            if let event = frame.event, frame.data?.lowercased().contains(photoID.lowercased()) == true {
                heard.append(event)
            }
            if heard.contains("PhotoApproved") { break }
        }
        #expect(heard == ["PhotoUploaded", "PhotoApproved"], "the owner's stream: \(heard)")

        // Fetched from media's origin: the variants, clean, cacheable until the URL expires.
        let (display, thumbnail) = try urls(of: photo)
        #expect(
            display.hasPrefix("http://127.0.0.1:\(suite.ports[.media] ?? 0)/media/\(photoID.lowercased())/display?"))
        let served = try await http.send("GET", display)
        #expect(served.status == 200)
        #expect(served.headers["content-type"] == "image/jpeg" && served.body.starts(with: [0xFF, 0xD8, 0xFF]))
        #expect(served.headers["x-content-type-options"] == "nosniff")
        #expect(served.headers["cache-control"]?.hasPrefix("private, max-age=") == true)
        #expect(!served.text.contains("GPS") && !served.text.contains("48.858"), "the metadata is gone")
        let etag = try #require(served.headers["etag"])
        #expect(try await http.send("GET", display, headers: ["If-None-Match": etag]).status == 304)
        #expect(try await http.send("GET", thumbnail).status == 200)
        // Tampered with, or expired (signed with the real key): 403.
        let tampered = display.replacingOccurrences(of: "/display?", with: "/thumbnail?")
        #expect(try await http.send("GET", tampered).status == 403)
        let signer = try MediaURLSigner(
            keysText: try TestEnvironment.value("KINDRED_MEDIA_URL_KEYS"), signingKeyID: "k1")
        let past = Int64(Date().timeIntervalSince1970) - 10
        let photoUUID = try #require(UUID(uuidString: photoID))
        let expired =
            "http://127.0.0.1:\(suite.ports[.media] ?? 0)"
            + signer.path(photoID: photoUUID, variant: .display, expires: past)
        #expect(try await http.send("GET", expired).status == 403)

        // Another user sees it on the profile, with URLs of its own.
        var viewed: [String: Any] = [:]
        let visible = try await eventually {
            viewed =
                (try? profiles.json(try await profiles.send("GET", "\(api)/profiles/\(owner.id)", token: viewer.token)))
                ?? [:]
            return (viewed["photos"] as? [[String: Any]])?.isEmpty == false
        }
        #expect(visible, "the approved photo reaches the profile: \(viewed)")

        // As a form; then the order, then a removal.
        let formed = try await upload(
            suite, token: owner.token, form(TestImages.png()),
            contentType: "multipart/form-data; boundary=kindred-e2e-boundary")
        #expect(formed.status == 202, "\(formed.text)")
        let secondID = try #require(try profiles.json(formed)["photoId"] as? String)
        #expect(try await processed(suite, token: owner.token, secondID)["status"] as? String == "approved")
        let reordered = try await profiles.send(
            "PUT", "\(api)/media/photos/order", token: owner.token,
            body: #"{"photoIds":["\#(secondID)","\#(photoID)"]}"#)
        #expect(reordered.status == 200, "\(reordered.text)")
        let listed = try profiles.json(try await profiles.send("GET", "\(api)/media/photos", token: owner.token))
        #expect((listed["photos"] as? [[String: Any]])?.compactMap { $0["photoId"] as? String } == [secondID, photoID])
        let ordered = try await eventually {
            let view = try profiles.json(
                try await profiles.send("GET", "\(api)/profiles/\(owner.id)", token: viewer.token))
            return (view["photos"] as? [[String: Any]])?.compactMap { $0["photoId"] as? String } == [secondID, photoID]
        }
        #expect(ordered, "the new order reaches the profile")
        let removed = try await profiles.send("DELETE", "\(api)/media/photos/\(photoID)", token: owner.token)
        #expect(removed.status == 204, "\(removed.text)")
        #expect(try await http.send("GET", display).status == 404, "a removed photo's URL answers 404 at once")
        #expect(try await profiles.send("GET", "\(api)/media/photos/\(photoID)", token: owner.token).status == 404)
        #expect(try await profiles.send("DELETE", "\(api)/media/photos/\(photoID)", token: owner.token).status == 404)

        try await limits(suite, owner: owner)

        // Deleting the account deletes the photos with it; the operation waits for media too.
        let secondURL = try urls(of: try await processed(suite, token: owner.token, secondID)).display
        let deletion = try await profiles.send("DELETE", "\(api)/account", token: owner.token)
        #expect(deletion.status == 202, "\(deletion.text)")
        let operation = try #require(deletion.headers["location"])
        let completed = try await eventually(timeout: .seconds(30)) {
            let status = try profiles.json(
                try await profiles.send("GET", suite.gatewayURL + operation, token: owner.token))
            return status["status"] as? String == "completed"
        }
        #expect(completed, "every participant, media included, confirmed the erasure")
        #expect(try await http.send("GET", secondURL).status == 404)
    }

    /// A client that asks `Expect: 100-continue` (curl, for bodies over 1 MB) is told to go
    /// on as soon as its head arrives, and only then sends the photo.
    func expectContinue(_ suite: RunningSuite, token: String) async throws {
        let photo = TestImages.png()
        let connection = try RawHTTPConnection(port: suite.ports[.gateway] ?? 0)
        try connection.send(
            Array(
                """
                POST /v1/media/photos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\
                Content-Type: image/png\r\nContent-Length: \(photo.count)\r\nExpect: 100-continue\r\n\r\n
                """.utf8))
        let interim = await connection.receive(until: "\r\n\r\n", timeout: .seconds(5))
        #expect(interim?.hasPrefix("HTTP/1.1 100 Continue") == true, "\(interim ?? "nothing within 5 s")")
        try connection.send(photo)
        let final = await connection.receive(until: "\r\n\r\n", timeout: .seconds(15))
        #expect(final?.hasPrefix("HTTP/1.1 202") == true, "\(final ?? "no answer")")
    }

    /// What uploads refuse: the wrong type, too many bytes, broken forms, a seventh photo;
    /// what processing rejects: bytes that are not an image they claim to be.
    func limits(_ suite: RunningSuite, owner: ProfileFlows.User) async throws {
        let api = suite.gatewayURL + "/v1"
        let text = try await upload(suite, token: owner.token, Array("hello".utf8), contentType: "text/plain")
        #expect(text.status == 415 && text.headers["content-type"] == "application/problem+json", "\(text.text)")
        let tooLarge = try await upload(
            suite, token: owner.token, [UInt8](repeating: 0x41, count: PhotoLimits.maxUploadBytes + 1),
            contentType: "image/jpeg")
        #expect(tooLarge.status == 413, "\(tooLarge.text)")
        let noPart = try await upload(
            suite, token: owner.token,
            Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n".utf8),
            contentType: "multipart/form-data; boundary=b")
        #expect(try profiles.fields(noPart) == ["photo"])
        #expect(try await upload(suite, token: "nope", TestImages.png()).status == 401)

        // A GIF sent as a JPEG: taken, then rejected with its reason (the type is read from the bytes).
        let gif = try await upload(
            suite, token: owner.token, Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 64),
            contentType: "image/jpeg")
        #expect(gif.status == 202)
        let gifID = try #require(try profiles.json(gif)["photoId"] as? String)
        let rejected = try await processed(suite, token: owner.token, gifID)
        #expect(rejected["status"] as? String == "rejected" && rejected["urls"] == nil)
        #expect((rejected["reason"] as? String)?.isEmpty == false)

        // Six at most, rejected ones not counted: the owner has one; five more, then a seventh.
        for _ in 0..<5 {
            let answer = try await upload(suite, token: owner.token, TestImages.png())
            #expect(answer.status == 202, "\(answer.text)")
        }
        let seventh = try await upload(suite, token: owner.token, TestImages.png())
        #expect(seventh.status == 409, "\(seventh.text)")
        let listed = try profiles.json(try await profiles.send("GET", "\(api)/media/photos", token: owner.token))
        #expect((listed["photos"] as? [[String: Any]])?.count == 7, "six and the rejected one")
    }

    func moderation(_ suite: RunningSuite) async throws {
        let api = suite.gatewayURL + "/v1"
        let owner = try await profiles.register(suite, "reviewed")
        try await profiles.fillIn(suite, owner, name: "Reviewed", photo: false)
        let waiting = try await givePhoto(suite, token: owner.token, expecting: "pending-review")
        let own = try await processed(suite, token: owner.token, waiting)
        let waitingURL = try urls(of: own).display
        #expect(try await http.send("GET", waitingURL).status == 200, "its owner sees a photo waiting for review")
        #expect(try await profiles.send("GET", "\(api)/admin/photos", token: owner.token).status == 403)

        let moderator = try await profiles.register(suite, "photo-moderator")
        let environment = try CLIEnvironment.load(currentDirectory: "/nonexistent")
        _ = try await AccountsCommand.change("moderator", moderator.email, granted: true, in: environment)
        var token = ""
        var queue: [[String: Any]] = []
        let granted = try await eventually {
            token = (try? profiles.json(try await profiles.login(suite, moderator))["accessToken"] as? String) ?? ""
            let answer = try await profiles.send("GET", "\(api)/admin/photos?status=pending-review", token: token)
            queue = (try? profiles.json(answer)["photos"] as? [[String: Any]]) ?? []
            return answer.status == 200
        }
        #expect(granted)
        let reviewed = try #require(queue.first { $0["photoId"] as? String == waiting }, "\(queue)")
        #expect(reviewed["userId"] as? String == owner.id && reviewed["urls"] != nil)
        #expect(
            try profiles.fields(try await profiles.send("GET", "\(api)/admin/photos?status=removed", token: token)) == [
                "status"
            ])

        func decide(_ photoID: String, _ body: String) async throws -> HTTPResponse {
            try await profiles.send("POST", "\(api)/admin/photos/\(photoID)/decision", token: token, body: body)
        }
        let approved = try await decide(waiting, #"{"decision":"approve"}"#)
        #expect(approved.status == 200, "\(approved.text)")
        #expect(try profiles.json(approved)["status"] as? String == "approved")
        #expect(try await decide(waiting, #"{"decision":"approve"}"#).status == 409)
        #expect(try await decide(UUID().uuidString, #"{"decision":"reject"}"#).status == 404)
        #expect(try profiles.fields(try await decide(waiting, #"{"decision":"maybe"}"#)) == ["decision"])
        #expect(try await processed(suite, token: owner.token, waiting)["status"] as? String == "approved")
        let viewer = try await profiles.register(suite, "photo-viewer")
        try await profiles.fillIn(suite, viewer, name: "Viewer", photo: false)
        let visible = try await eventually {
            try await profiles.send("GET", "\(api)/profiles/\(owner.id)", token: viewer.token).status == 200
        }
        #expect(visible, "an approved photo makes the profile visible")

        // Rejected with a reason: its URL goes, and a near copy is refused for anyone.
        let image = TestImages.png(seed: UInt64.random(in: 0...UInt64.max))
        let offending = try #require(
            try profiles.json(try await upload(suite, token: owner.token, image))["photoId"] as? String)
        let offendingURL = try urls(of: try await processed(suite, token: owner.token, offending)).display
        let rejected = try await decide(offending, #"{"decision":"reject","reason":"not a photo of you"}"#)
        #expect(rejected.status == 200, "\(rejected.text)")
        let shown = try await processed(suite, token: owner.token, offending)
        #expect(shown["status"] as? String == "rejected" && shown["reason"] as? String == "not a photo of you")
        #expect(try await http.send("GET", offendingURL).status == 404)
        let copy = try await upload(suite, token: viewer.token, image + [])
        let copyID = try #require(try profiles.json(copy)["photoId"] as? String)
        let refused = try await processed(suite, token: viewer.token, copyID)
        #expect(refused["status"] as? String == "rejected", "\(refused)")
    }
}
