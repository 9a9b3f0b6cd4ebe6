import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

/// `amqps://` against the broker's TLS listener, which `scripts/test` starts with a
/// certificate from a local CA (`KINDRED_TLS_CA_FILE`).
@Suite("AMQP over TLS")
struct TLSTests {
    /// The admin URL, moved to the TLS port under the certificate's name, with `query`.
    func tlsURL(_ query: String) throws -> String {
        let plain = try TestEnvironment.adminAMQPEndpoint()
        let port = try TestEnvironment.value("KINDRED_AMQPS_PORT")
        return "amqps://\(plain.user):\(plain.password)@localhost:\(port)/kindred?\(query)"
    }

    @Test("a connection that verifies the broker against the local CA publishes and consumes")
    func verifiedConnection() async throws {
        let ca = try TestEnvironment.value("KINDRED_TLS_CA_FILE")
        let endpoint = try AMQPEndpoint(url: try tlsURL("cacertfile=\(ca)&verify=verify_peer"))
        #expect(endpoint.tls == AMQPTLSOptions(caCertificateFile: ca, verifyPeer: true))
        #expect(endpoint.description.hasPrefix("amqps://"))
        let connection = AMQPConnection(endpoint: endpoint, name: "tls", logger: TestEnvironment.logger("amqp"))
        defer { connection.close() }
        #expect(try await eventually { connection.isConnected }, "\(connection.lastError)")
        let queue = TestEnvironment.uniqueName("tls.tests.")
        try await connection.declare(
            Topology(queues: [QueueDeclaration(name: queue, durable: false, arguments: ["x-expires": .int(60_000)])]))
        try await connection.publish(
            OutgoingMessage(
                exchange: "", routingKey: queue, body: Array("over tls".utf8),
                properties: MessageProperties(messageID: "tls-1")))
        var deliveries = try await connection.consume(queue: queue, prefetch: 1).makeAsyncIterator()
        let delivery = try #require(try await deliveries.next())
        #expect(String(decoding: delivery.body, as: UTF8.self) == "over tls")
        #expect(delivery.properties.userID == endpoint.user)
        connection.acknowledge(delivery)
    }

    @Test("a broker whose certificate the CA bundle does not vouch for is refused")
    func unverifiedBrokerRefused() async throws {
        // The system bundle knows public CAs, not the local one that signed the broker's.
        let connection = AMQPConnection(
            endpoint: try AMQPEndpoint(url: try tlsURL("cacertfile=/etc/ssl/certs/ca-certificates.crt")),
            name: "tls-bad",
            logger: TestEnvironment.logger("amqp"))
        defer { connection.close() }
        let failed = try await eventually(timeout: .seconds(10)) {
            connection.lastError != "not connected yet" && !connection.isConnected
        }
        #expect(failed)
        #expect(!connection.isConnected, "connected to a broker it could not verify")
        #expect(
            connection.lastError.lowercased().contains("ssl") || connection.lastError.contains("certificate"),
            "\(connection.lastError)")
    }

    @Test("amqps URLs: default port, options, and the mistakes named")
    func urls() throws {
        let endpoint = try AMQPEndpoint(url: "amqps://u:p@broker.example/kindred?cacertfile=/ca.pem")
        #expect(endpoint.port == 5671)
        #expect(endpoint.tls?.verifyPeer == true)
        let unverified = try AMQPEndpoint(url: "amqps://u:p@h/kindred?verify=verify_none")
        #expect(unverified.tls == AMQPTLSOptions(verifyPeer: false))
        #expect(try AMQPEndpoint(url: "amqp://u:p@h/kindred").tls == nil)
        for bad in [
            "amqps://u:p@h/kindred",  // verify_peer without a CA bundle
            "amqps://u:p@h/kindred?verify=maybe", "amqps://u:p@h/kindred?cacertfile=/ca.pem&colour=blue",
            "amqp://u:p@h/kindred?cacertfile=/ca.pem", "amqps://u:p@h/kindred?cacertfile=/ca.pem&certfile=/c.pem",
        ] {
            #expect(throws: AMQPError.self, "\(bad)") { try AMQPEndpoint(url: bad) }
        }
    }
}
