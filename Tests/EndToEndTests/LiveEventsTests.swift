import Contracts
import Foundation
import OutboundHTTP
import TestSupport
import Testing

extension WalkingSkeletonTests {
    @Test(
        "live events: a profile change arrives as an SSE frame, and a reconnect with Last-Event-ID replays what it missed"
    )
    func liveEvents() async throws {
        try await RunningSuite.run(
            overrides: [.gateway: ["KINDRED_BCRYPT_COST": "4", "KINDRED_SSE_HEARTBEAT_SECONDS": "1"]],
            exerciseLiveEvents)
    }

    func exerciseLiveEvents(_ suite: RunningSuite) async throws {
        let api = suite.gatewayURL + "/v1"
        let port = suite.ports[.gateway] ?? 0
        let registered = try json(
            try await send(
                "POST", "\(api)/auth/register",
                body: #"{"email":"\#(TestEnvironment.uniqueName("live-"))@example.com","password":"correct horse"}"#))
        let token = try #require(registered["accessToken"] as? String)
        #expect(try await eventually { try await send("GET", "\(api)/profile/me", token: token).status == 200 })
        func update(_ name: String) async throws {
            let body = #"{"displayName":"\#(name)","birthdate":"1990-05-17","gender":"woman","seeking":["man"]}"#
            #expect(try await send("PUT", "\(api)/profile/me", token: token, body: body).status == 200)
        }
        func nextEvent(_ reader: EventStreamReader) async -> EventStreamReader.Frame? {
            for _ in 0..<30 {
                guard let frame = await reader.next(timeout: .seconds(10)) else { return nil }
                if frame.id != nil { return frame }
            }
            return nil
        }

        let unauthenticated = try EventStreamReader(port: port, path: "/v1/events", headers: [:])
        _ = await unauthenticated.next(timeout: .seconds(2))
        #expect(unauthenticated.status == 401)

        let stream = try EventStreamReader(
            port: port, path: "/v1/events", headers: ["Authorization": "Bearer \(token)"])
        let heartbeat = await stream.next(timeout: .seconds(5))
        #expect(stream.status == 200)
        #expect(stream.headers["content-type"] == "text/event-stream")
        #expect(heartbeat != nil)
        try await update("First")
        let first = try #require(await nextEvent(stream))
        #expect(first.event == "ProfileUpdated")
        #expect(first.data?.contains(#""displayName":"First""#) == true)
        let comment = await stream.next(timeout: .seconds(3))
        #expect(comment?.isComment == true, "heartbeat comments keep an idle stream alive")

        // Missed while away: replayed on reconnect, in order, then live again.
        try await update("Second")
        try await update("Third")
        let resumed = try EventStreamReader(
            port: port, path: "/v1/events",
            headers: ["Authorization": "Bearer \(token)", "Last-Event-ID": try #require(first.id)])
        let second = try #require(await nextEvent(resumed))
        let third = try #require(await nextEvent(resumed))
        #expect(second.data?.contains(#""displayName":"Second""#) == true)
        #expect(third.data?.contains(#""displayName":"Third""#) == true)
        try await update("Fourth")
        let fourth = try #require(await nextEvent(resumed))
        #expect(fourth.data?.contains(#""displayName":"Fourth""#) == true)
        #expect(Set([first.id, second.id, third.id, fourth.id]).count == 4)
    }
}
