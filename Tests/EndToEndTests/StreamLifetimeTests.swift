import Contracts
import Foundation
import Messaging
import OutboundHTTP
import TestSupport
import Testing

extension WalkingSkeletonTests {
    @Test("live streams are limited per user and end with a reason when the account is suspended")
    func streamLifetimes() async throws {
        try await RunningSuite.run(
            overrides: [
                .gateway: [
                    "KINDRED_BCRYPT_COST": "4", "KINDRED_SSE_HEARTBEAT_SECONDS": "1",
                    "KINDRED_SSE_MAX_STREAMS_PER_USER": "2",
                ]
            ]
        ) { suite in
            let api = suite.gatewayURL + "/v1"
            let port = suite.ports[.gateway] ?? 0
            let registered = try json(
                try await send(
                    "POST", "\(api)/auth/register",
                    body:
                        #"{"email":"\#(TestEnvironment.uniqueName("streams-"))@example.com","password":"correct horse"}"#
                ))
            let token = try #require(registered["accessToken"] as? String)
            let userID = try #require(registered["userId"] as? String)
            let headers = ["Authorization": "Bearer \(token)"]
            let first = try EventStreamReader(port: port, path: "/v1/events", headers: headers)
            let second = try EventStreamReader(port: port, path: "/v1/events", headers: headers)
            #expect(await first.next(timeout: .seconds(5)) != nil && first.status == 200)
            #expect(await second.next(timeout: .seconds(5)) != nil && second.status == 200)
            let third = try await send("GET", "\(api)/events", token: token)
            try expectProblem(third, status: 429, "a third stream of the same user")
            #expect(third.headers["retry-after"] != nil)

            try await suspend(userID)
            for stream in [first, second] {
                var end: EventStreamReader.Frame?
                for _ in 0..<30 {
                    guard let frame = await stream.next(timeout: .seconds(10)) else { break }
                    if frame.event == "end" {
                        end = frame
                        break
                    }
                }
                #expect(end?.data == #"{"reason":"account-closed"}"#)
                let after = await stream.next(timeout: .seconds(3))
                #expect(after == nil, "the stream closed after its end frame, but sent \(String(describing: after))")
            }
            // A suspended account opens no new stream, even with a token still valid.
            try expectProblem(try await send("GET", "\(api)/events", token: token), status: 403)
        }
    }
}
