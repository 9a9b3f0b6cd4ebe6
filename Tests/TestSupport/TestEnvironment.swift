import Foundation
import Logging
import Messaging
import Persistence

/// A variable that `scripts/test` exports is missing: the test fails (it does not skip)
/// and says how to run it.
public struct MissingTestEnvironment: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "\(name) is not set: run the tests through scripts/test, which starts RabbitMQ and PostgreSQL and exports it"
    }
}

/// Where the real RabbitMQ and PostgreSQL that `scripts/test` started are, and as whom to
/// connect.
public enum TestEnvironment {
    public static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw MissingTestEnvironment(name: name)
        }
        return value
    }

    /// Superuser on the broker's `kindred` vhost (tests only).
    public static func adminAMQPEndpoint() throws -> AMQPEndpoint {
        try AMQPEndpoint(url: value("KINDRED_ADMIN_AMQP_URL"), heartbeatSeconds: 10)
    }

    /// The `kindred_test` database, owned by the `kindred_test` role.
    public static func testDatabaseURL() throws -> String { try value("KINDRED_TEST_DATABASE_URL") }

    /// The PostgreSQL superuser, database `postgres` (tests only).
    public static func adminDatabaseURL() throws -> String { try value("KINDRED_ADMIN_DATABASE_URL") }

    /// The PostgreSQL superuser on another database (a service's, to look into it).
    public static func adminDatabaseURL(database: String) throws -> String {
        try adminDatabaseURL().replacingOccurrences(of: "dbname=postgres", with: "dbname=\(database)")
    }

    public static func databaseURL(of service: String) throws -> String {
        try value("KINDRED_DATABASE_URL_\(service.uppercased())")
    }

    public static func amqpURL(of service: String) throws -> String {
        try value("KINDRED_AMQP_URL_\(service.uppercased())")
    }

    /// A logger that stays quiet unless `KINDRED_TEST_LOG_LEVEL` says otherwise.
    public static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel =
            ProcessInfo.processInfo.environment["KINDRED_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            ?? .warning
        return logger
    }

    /// A name no other test run uses, for queues and tables.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// Polls `condition` until it holds or `timeout` passes. For waiting on other processes
/// (a consumer, a service starting), never for the passage of time itself.
public func eventually(
    timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
