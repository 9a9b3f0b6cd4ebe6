import Contracts
import Foundation
import Messaging
import Persistence

/// A configuration problem found at start-up, naming the variable to fix.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String {
        "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Reads `KINDRED_*` variables, collecting every problem instead of stopping at the first,
/// so one start-up tells an operator everything that is wrong.
public struct EnvironmentReader {
    public let environment: [String: String]
    public private(set) var problems: [String] = []

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public mutating func string(_ name: String, default fallback: String) -> String {
        guard let value = environment[name], !value.isEmpty else { return fallback }
        return value
    }

    /// A required secret. Its value is never echoed in an error.
    public mutating func secret(_ name: String, minimumLength: Int, purpose: String) -> String {
        guard let value = environment[name], !value.isEmpty else {
            problems.append("\(name) is required (\(purpose))")
            return ""
        }
        if value.utf8.count < minimumLength {
            problems.append("\(name) must be at least \(minimumLength) bytes long (\(purpose))")
        }
        return value
    }

    public mutating func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
        guard let text = environment[name], !text.isEmpty else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            problems.append(
                "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            return fallback
        }
        return value
    }

    public mutating func choice<T: RawRepresentable & CaseIterable>(
        _ name: String, default fallback: T
    ) -> T where T.RawValue == String {
        guard let text = environment[name], !text.isEmpty else { return fallback }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            problems.append("\(name) must be one of \(allowed), not '\(text)'")
            return fallback
        }
        return value
    }

    public mutating func problem(_ text: String) { problems.append(text) }

    /// Throws if anything was wrong.
    public func validate() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }
}

public enum LogLevelName: String, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical
}

/// What every service reads from its environment. See the README's configuration table.
public struct ServiceConfiguration: Sendable {
    public var service: ServiceName
    /// `KINDRED_HTTP_HOST`, default 127.0.0.1.
    public var httpHost: String
    /// `KINDRED_HTTP_PORT`, default per service (DESIGN.md §5).
    public var httpPort: Int
    /// `KINDRED_ADMIN_HTTP_HOST`, default 127.0.0.1: where `/metrics` and the detailed
    /// `/ready` are served, apart from the public port (an ingress routes only the latter).
    public var adminHTTPHost: String
    /// `KINDRED_ADMIN_HTTP_PORT`, default the HTTP port + 1000 (9080 for the gateway).
    public var adminHTTPPort: Int
    /// `KINDRED_AMQP_URL`, default `amqp://kindred_<service>@127.0.0.1:5672/kindred`; it must
    /// carry the broker user's password.
    public var amqp: AMQPEndpoint
    /// `KINDRED_DATABASE_URL`, a libpq connection string; default
    /// `host=127.0.0.1 port=5432 dbname=kindred_<service> user=kindred_<service>` (the
    /// password then comes from `PGPASSWORD` or `.pgpass`, as libpq does).
    public var databaseURL: String
    /// `KINDRED_DB_POOL_SIZE`, default 4.
    public var databasePoolSize: Int
    /// `KINDRED_DB_ACQUIRE_TIMEOUT_MS`, default 5000: how long a caller waits for a free
    /// pooled connection.
    public var databaseAcquireTimeoutMilliseconds: Int
    /// `KINDRED_DB_CONNECT_TIMEOUT_SECONDS` (default 5) and `KINDRED_DB_STATEMENT_TIMEOUT_MS`
    /// (default 30000): libpq's `connect_timeout` and the server's `statement_timeout`,
    /// unless the connection string sets them.
    public var databaseDefaults: ConnectionDefaults
    /// `KINDRED_QUEUE_TYPE`: classic (default) or quorum.
    public var queueType: QueueType
    /// `KINDRED_LOG_LEVEL`, default info.
    public var logLevel: LogLevelName
    /// `KINDRED_INSTANCE_ID`, default a random id; names per-instance queues.
    public var instanceID: String
    /// `KINDRED_SHUTDOWN_SECONDS`, default 10: how long a graceful stop may take before
    /// what is left is cancelled.
    public var shutdownSeconds: Int
    /// `KINDRED_RETRY_DELAYS`, default `1s,10s,1m,10m`: the delays before each retry of a
    /// message whose handler failed; after the last, the message goes to `.dead`.
    public var retryPolicy: RetryPolicy
    /// `KINDRED_OUTBOX_RETENTION_HOURS`, default 168 (7 days): how long published outbox
    /// rows (the archive events are replayed from) and inbox rows are kept.
    public var outboxRetentionHours: Int
    /// `KINDRED_MAX_MESSAGE_BYTES`, default 16 MiB: a larger message is dead-lettered
    /// (`too-large`) before it is decoded, and a larger outbox row is set aside. The broker's
    /// `max_message_size` is set to the same.
    public var maxMessageBytes: Int
    /// `KINDRED_REDELIVERY_LIMIT`, default 5: how often a message may come back
    /// unacknowledged (its consumer died holding it) before it goes to `.dead`.
    public var redeliveryLimit: Int
    /// `KINDRED_CONFIRM_TIMEOUT_MS`, default 30000: how long a publish waits for the
    /// broker's confirm before it fails (and is retried: an outbox row stays unsent).
    public var confirmTimeoutMilliseconds: Int

    /// `KINDRED_OPERATOR_AMQP_USER`, default `kindred_admin`: the broker user whose
    /// messages (the CLI's publish and replays) every consumer accepts besides the producer's.
    public var operatorBrokerUser: String

    /// What the service's consumers enforce.
    public var consumerLimits: ConsumerLimits {
        ConsumerLimits(maxMessageBytes: maxMessageBytes, redeliveryLimit: redeliveryLimit)
    }

    public static func defaultPort(of service: ServiceName) -> Int {
        switch service {
        case .gateway: 8080
        case .profile: 8081
        case .matching: 8082
        case .notification: 8083
        case .payment: 8084
        case .media: 8085
        }
    }

    public init(service: ServiceName, reader: inout EnvironmentReader) {
        self.service = service
        let role = "kindred_\(service.rawValue)"
        httpHost = reader.string("KINDRED_HTTP_HOST", default: "127.0.0.1")
        httpPort = reader.integer("KINDRED_HTTP_PORT", default: Self.defaultPort(of: service), range: 1...65535)
        adminHTTPHost = reader.string("KINDRED_ADMIN_HTTP_HOST", default: "127.0.0.1")
        adminHTTPPort = reader.integer(
            "KINDRED_ADMIN_HTTP_PORT", default: min(65535, httpPort + 1000), range: 1...65535)
        if adminHTTPPort == httpPort {
            reader.problem("KINDRED_ADMIN_HTTP_PORT must differ from KINDRED_HTTP_PORT (\(httpPort))")
        }
        let amqpURL = reader.string("KINDRED_AMQP_URL", default: "amqp://\(role)@127.0.0.1:5672/kindred")
        do {
            amqp = try AMQPEndpoint(url: amqpURL)
            if URLComponents(string: amqpURL)?.password == nil {
                reader.problem(
                    "KINDRED_AMQP_URL must include the password of broker user \(amqp.user) (amqp://user:password@host:port/vhost)"
                )
            }
        } catch {
            reader.problem("KINDRED_AMQP_URL: \(error)")
            amqp = AMQPEndpoint(user: role, password: "")
        }
        databaseURL = reader.string(
            "KINDRED_DATABASE_URL", default: "host=127.0.0.1 port=5432 dbname=\(role) user=\(role)")
        databasePoolSize = reader.integer("KINDRED_DB_POOL_SIZE", default: 4, range: 1...64)
        databaseAcquireTimeoutMilliseconds = reader.integer(
            "KINDRED_DB_ACQUIRE_TIMEOUT_MS", default: 5000, range: 10...600_000)
        databaseDefaults = ConnectionDefaults(
            connectTimeoutSeconds: reader.integer("KINDRED_DB_CONNECT_TIMEOUT_SECONDS", default: 5, range: 1...600),
            statementTimeoutMilliseconds: reader.integer(
                "KINDRED_DB_STATEMENT_TIMEOUT_MS", default: 30000, range: 0...3_600_000))
        queueType = reader.choice("KINDRED_QUEUE_TYPE", default: QueueType.classic)
        logLevel = reader.choice("KINDRED_LOG_LEVEL", default: LogLevelName.info)
        instanceID = reader.string(
            "KINDRED_INSTANCE_ID", default: String(UUID().uuidString.prefix(8)).lowercased())
        shutdownSeconds = reader.integer("KINDRED_SHUTDOWN_SECONDS", default: 10, range: 1...600)
        let delays = reader.string("KINDRED_RETRY_DELAYS", default: "1s,10s,1m,10m")
        if let policy = RetryPolicy.parse(delays) {
            retryPolicy = policy
        } else {
            reader.problem(
                "KINDRED_RETRY_DELAYS must be a comma-separated list like 1s,10s,1m,10m (units ms, s, m, h), not '\(delays)'"
            )
            retryPolicy = .standard
        }
        outboxRetentionHours = reader.integer("KINDRED_OUTBOX_RETENTION_HOURS", default: 168, range: 1...8760)
        maxMessageBytes = reader.integer(
            "KINDRED_MAX_MESSAGE_BYTES", default: ConsumerLimits.defaultMaxMessageBytes, range: 1024...134_217_728)
        redeliveryLimit = reader.integer("KINDRED_REDELIVERY_LIMIT", default: 5, range: 1...1000)
        operatorBrokerUser = reader.string("KINDRED_OPERATOR_AMQP_USER", default: BrokerUser.defaultOperator)
        confirmTimeoutMilliseconds = reader.integer(
            "KINDRED_CONFIRM_TIMEOUT_MS", default: 30000, range: 100...600_000)
    }
}
