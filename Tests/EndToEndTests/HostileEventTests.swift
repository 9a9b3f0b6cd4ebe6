import Contracts
import Foundation
import Messaging
import OutboundHTTP
import TestSupport
import Testing

/// A message crafted to kill its consumer, sent to a real service's queue.
extension WalkingSkeletonTests {
    @Test("an event with an overflowing attempts header goes to .dead and the profile service keeps working")
    func overflowingAttemptsHeader() async throws {
        try await RunningSuite.run(overrides: [.gateway: ["KINDRED_BCRYPT_COST": "4"]]) { suite in
            let broker = AMQPConnection(
                endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "hostile",
                logger: TestEnvironment.logger("amqp"))
            defer { broker.close() }
            await broker.waitUntilConnected()
            let userID = UUID()
            let envelope = Envelope(
                source: .gateway, time: Date(), subject: userID.uuidString,
                data: UserRegistered(userId: userID, email: "hostile@example.com", registeredAt: Date()),
                correlationID: "hostile-header")
            var message = OutgoingMessage.event(
                body: try EnvelopeCodec().encode(envelope), header: envelope.header, publisher: .gateway)
            message.exchange = ""
            message.routingKey = "UserRegistered.profile"
            // It crashed Inbox.claim with "arithmetic overflow", and the redelivery crashed
            // every restart after it.
            message.properties.headers[DeadLetterHeader.attempts] = .int(.max)
            try await broker.publish(message)

            // Other dead letters may wait ahead of it (a long-lived local stack keeps them): they
            // are held, unsettled, until the connection closes and gives them back. Requeued one
            // by one instead, the first `prefetch` of them would come back forever.
            let dead = try await broker.consume(queue: "UserRegistered.profile.dead", prefetch: 5000)
            var reason: String?
            for try await delivery in dead where delivery.properties.messageID == envelope.id.uuidString {
                reason = delivery.properties.headers[DeadLetterHeader.reason]?.stringValue
                broker.acknowledge(delivery)
                break
            }
            #expect(reason == "bad-header")

            // Still alive and consuming: a real registration gets its profile.
            let registered = try json(
                try await send(
                    "POST", suite.gatewayURL + "/v1/auth/register",
                    body:
                        #"{"email":"\#(TestEnvironment.uniqueName("after-"))@example.com","password":"correct horse"}"#)
            )
            let token = try #require(registered["accessToken"] as? String)
            #expect(
                try await eventually {
                    try await send("GET", suite.gatewayURL + "/v1/profile/me", token: token).status == 200
                })
        }
    }
}
