import Foundation

/// TLS to the broker (`amqps://`), with the query options of RabbitMQ's URI spec.
public struct AMQPTLSOptions: Sendable, Equatable {
    /// `cacertfile`: the CA bundle the broker's certificate is checked against. Required
    /// with `verify_peer` (rabbitmq-c loads no system bundle by itself): for a broker with
    /// a public certificate, name the system's, `/etc/ssl/certs/ca-certificates.crt`.
    public var caCertificateFile: String?
    /// `certfile` and `keyfile`: a client certificate, for brokers that ask for one.
    public var certificateFile: String?
    public var keyFile: String?
    /// `verify`: `verify_peer` (the default) checks the certificate chain and that it names
    /// the host connected to; `verify_none` checks nothing (tests of a broker you trust).
    public var verifyPeer: Bool

    public init(
        caCertificateFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
        verifyPeer: Bool = true
    ) {
        self.caCertificateFile = caCertificateFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.verifyPeer = verifyPeer
    }
}

/// Where and how to reach the broker: `amqp://user:password@host:port/vhost`, or
/// `amqps://…?cacertfile=/path/ca.pem&verify=verify_peer` over TLS.
public struct AMQPEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var virtualHost: String
    public var user: String
    public var password: String
    /// Seconds between heartbeats the client asks for (0 disables them).
    public var heartbeatSeconds: Int
    /// TLS, for `amqps://`; nil is plain TCP.
    public var tls: AMQPTLSOptions?

    public init(
        host: String = "127.0.0.1", port: Int = 5672, virtualHost: String = "kindred",
        user: String, password: String, heartbeatSeconds: Int = 30
    ) {
        self.host = host
        self.port = port
        self.virtualHost = virtualHost
        self.user = user
        self.password = password
        self.heartbeatSeconds = heartbeatSeconds
    }

    /// Parses an AMQP URI. The path is the percent-encoded virtual host; no path means `/`.
    public init(url: String, heartbeatSeconds: Int = 30) throws(AMQPError) {
        guard let components = URLComponents(string: url), components.scheme == "amqp" || components.scheme == "amqps",
            let host = components.host, !host.isEmpty
        else {
            throw .invalidURL("expected amqp://user:password@host:port/vhost or amqps://…")
        }
        let secure = components.scheme == "amqps"
        var tls = secure ? AMQPTLSOptions() : nil
        var heartbeat = heartbeatSeconds
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            if item.name == "heartbeat" {
                guard let seconds = Int(value), (0...3600).contains(seconds) else {
                    throw .invalidURL("heartbeat must be seconds from 0 to 3600, not '\(value)'")
                }
                heartbeat = seconds
                continue
            }
            guard secure, !value.isEmpty else {
                throw .invalidURL("query option \(item.name) needs amqps:// and a value")
            }
            switch item.name {
            case "cacertfile": tls?.caCertificateFile = value
            case "certfile": tls?.certificateFile = value
            case "keyfile": tls?.keyFile = value
            case "verify":
                guard value == "verify_peer" || value == "verify_none" else {
                    throw .invalidURL("verify must be verify_peer or verify_none, not '\(value)'")
                }
                tls?.verifyPeer = value == "verify_peer"
            default:
                throw .invalidURL(
                    "unknown query option \(item.name) (known: heartbeat, and with amqps: cacertfile, certfile, keyfile, verify)"
                )
            }
        }
        if let tls {
            if tls.verifyPeer, tls.caCertificateFile == nil {
                throw .invalidURL("amqps:// with verify_peer needs cacertfile=<CA bundle>")
            }
            if (tls.certificateFile == nil) != (tls.keyFile == nil) {
                throw .invalidURL("certfile and keyfile go together")
            }
        }
        let encodedPath = components.percentEncodedPath
        let vhostPart = encodedPath.hasPrefix("/") ? String(encodedPath.dropFirst()) : encodedPath
        self.tls = tls
        self.host = host
        self.port = components.port ?? (secure ? 5671 : 5672)
        self.virtualHost =
            vhostPart.isEmpty ? "/" : (vhostPart.removingPercentEncoding ?? vhostPart)
        self.user = components.user ?? "guest"
        self.password = components.password ?? "guest"
        self.heartbeatSeconds = heartbeat
    }

    /// The URL without the password (or the TLS files), safe to log.
    public var description: String { "\(tls == nil ? "amqp" : "amqps")://\(user)@\(host):\(port)/\(virtualHost)" }
}

public enum AMQPError: Error, Equatable, CustomStringConvertible {
    case invalidURL(String)
    /// The connection is down (it is being re-established in the background).
    case notConnected(String)
    /// The connection failed while the operation was in flight; its outcome is unknown.
    case connectionLost(String)
    /// The broker refused an operation (access refused, precondition failed, …).
    case refused(String)
    /// A mandatory publish matched no queue.
    case unroutable(exchange: String, routingKey: String)
    /// The broker negatively acknowledged a publish.
    case nacked
    /// No confirm came before the publish's deadline; the message may or may not arrive.
    case confirmTimeout
    /// The connection was closed by its owner.
    case closed
    /// No reply to a request came before its deadline.
    case noReply

    public var description: String {
        switch self {
        case .invalidURL(let why): "invalid AMQP URL: \(why)"
        case .notConnected(let why): "not connected to the broker: \(why)"
        case .connectionLost(let why): "connection to the broker lost: \(why)"
        case .refused(let why): "the broker refused: \(why)"
        case .unroutable(let exchange, let key):
            "no queue is bound to '\(key)' on exchange '\(exchange)'"
        case .nacked: "the broker did not accept the message"
        case .confirmTimeout: "the broker did not confirm the message in time"
        case .closed: "the connection is closed"
        case .noReply: "no reply came before the deadline"
        }
    }
}

extension AMQPError {
    /// The broker declined this one message (returned it, or nacked it): trying it again
    /// later may work, and it says nothing about the connection.
    public var isAboutTheMessage: Bool {
        switch self {
        case .unroutable, .nacked: true
        default: false
        }
    }
}

/// A header value of the kinds Kindred writes.
public enum HeaderValue: Sendable, Hashable {
    case string(String)
    case int(Int64)

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }
}

/// The AMQP basic properties Kindred sets and reads.
public struct MessageProperties: Sendable, Equatable {
    public var messageID: String?
    public var type: String?
    public var correlationID: String?
    public var replyTo: String?
    public var timestamp: Date?
    public var appID: String?
    public var contentType: String?
    public var persistent: Bool
    /// Per-message TTL: the broker drops the message if it waits longer in a queue.
    public var expirationMilliseconds: Int?
    public var headers: [String: HeaderValue]
    /// The broker user that published the message. RabbitMQ refuses a publish whose
    /// `user_id` is not the connection's user, so on a delivery it is proof of the sender;
    /// every publish sets it (`AMQPConnection` writes its own user, whatever this says).
    public var userID: String?

    public init(
        messageID: String? = nil, type: String? = nil, correlationID: String? = nil,
        replyTo: String? = nil, timestamp: Date? = nil, appID: String? = nil,
        contentType: String? = "application/cloudevents+json", persistent: Bool = true,
        expirationMilliseconds: Int? = nil, headers: [String: HeaderValue] = [:], userID: String? = nil
    ) {
        self.userID = userID
        self.messageID = messageID
        self.type = type
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.timestamp = timestamp
        self.appID = appID
        self.contentType = contentType
        self.persistent = persistent
        self.expirationMilliseconds = expirationMilliseconds
        self.headers = headers
    }
}

/// One message to publish.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: MessageProperties
    /// Ask the broker to return the message if no queue matches; the publish then fails
    /// with `AMQPError.unroutable`.
    public var mandatory: Bool

    public init(
        exchange: String, routingKey: String, body: [UInt8], properties: MessageProperties,
        mandatory: Bool = false
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}

/// One message delivered to a consumer. Acknowledge it through the connection it came
/// from; `generation` ties its delivery tag to the connection that delivered it, so that
/// an acknowledgement after a reconnect is dropped instead of hitting the wrong message
/// (the broker redelivers it anyway).
public struct Delivery: Sendable {
    public var body: [UInt8]
    public var properties: MessageProperties
    public var exchange: String
    public var routingKey: String
    public var redelivered: Bool
    public var deliveryTag: UInt64
    public var generation: Int
    public var queue: String

    package init(
        body: [UInt8], properties: MessageProperties, exchange: String, routingKey: String, redelivered: Bool,
        deliveryTag: UInt64, generation: Int, queue: String
    ) {
        self.body = body
        self.properties = properties
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.deliveryTag = deliveryTag
        self.generation = generation
        self.queue = queue
    }
}

/// The answer to a request (`AMQPConnection.request`): it is not acknowledged, since
/// replies arrive through RabbitMQ's direct reply-to without a queue.
public struct ReplyMessage: Sendable {
    public var body: [UInt8]
    public var properties: MessageProperties

    public init(body: [UInt8], properties: MessageProperties) {
        self.body = body
        self.properties = properties
    }
}

/// What the broker says of a queue now.
public struct QueueStatus: Sendable, Equatable {
    /// Messages ready for delivery (not counting unacknowledged ones).
    public var messages: Int
    public var consumers: Int

    public init(messages: Int, consumers: Int) {
        self.messages = messages
        self.consumers = consumers
    }
}
