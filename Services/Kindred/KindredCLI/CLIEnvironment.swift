import Contracts
import Foundation
import Logging
import Messaging
import Persistence

/// A failure the CLI reports in one line, naming what to fix, with its exit code.
public struct CLIError: Error, CustomStringConvertible {
    public let description: String
    public let exitCode: Int32

    public init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }

    /// Exit code 3: the broker or a database could not be reached.
    public static func unreachable(_ what: String, _ error: any Error) -> CLIError {
        CLIError("cannot reach \(what): \(error)", exitCode: 3)
    }
}

/// Where the broker and the services' databases are, from the same `KINDRED_*` variables
/// the services and tests use (`eval "$(scripts/stack env)"`), or — with no variables — from
/// the local stack's `.kindred/secrets.env`, so that `kindred` works beside `scripts/run`
/// with no flags.
public struct CLIEnvironment: Sendable {
    public var amqpURL: String
    public var databaseURLs: [ServiceName: String]
    /// The services' `KINDRED_QUEUE_TYPE` and `KINDRED_RETRY_DELAYS`, which shape their queues.
    public var queueType: QueueType = .classic
    public var retryPolicy: RetryPolicy = .standard

    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws -> CLIEnvironment {
        let secrets = Self.localSecrets(environment: environment, currentDirectory: currentDirectory)
        let amqpPort = environment["KINDRED_AMQP_PORT"] ?? "5672"
        let pgPort = environment["KINDRED_PG_PORT"] ?? "5432"
        guard
            let amqp = environment["KINDRED_ADMIN_AMQP_URL"] ?? environment["KINDRED_AMQP_URL"]
                ?? secrets["KINDRED_AMQP_ADMIN_PASSWORD"].map({
                    "amqp://kindred_admin:\($0)@127.0.0.1:\(amqpPort)/kindred"
                })
        else {
            throw CLIError(
                "no broker configured: set KINDRED_ADMIN_AMQP_URL (eval \"$(scripts/stack env)\"), or run kindred in the repository whose scripts/run started the stack",
                exitCode: 2)
        }
        var databases: [ServiceName: String] = [:]
        for service in ServiceName.allCases {
            let name = "KINDRED_DATABASE_URL_\(service.rawValue.uppercased())"
            if let url = environment[name] {
                databases[service] = url
            } else if let password = secrets["KINDRED_PG_PASSWORD_\(service.rawValue.uppercased())"] {
                databases[service] =
                    "host=127.0.0.1 port=\(pgPort) dbname=kindred_\(service.rawValue) user=kindred_\(service.rawValue) password=\(password)"
            }
        }
        var loaded = CLIEnvironment(amqpURL: amqp, databaseURLs: databases)
        if let text = environment["KINDRED_QUEUE_TYPE"] {
            guard let queueType = QueueType(rawValue: text) else {
                throw CLIError("KINDRED_QUEUE_TYPE must be classic or quorum, not '\(text)'", exitCode: 2)
            }
            loaded.queueType = queueType
        }
        if let text = environment["KINDRED_RETRY_DELAYS"] {
            guard let policy = RetryPolicy.parse(text) else {
                throw CLIError("KINDRED_RETRY_DELAYS must be like 1s,10s,1m,10m, not '\(text)'", exitCode: 2)
            }
            loaded.retryPolicy = policy
        }
        return loaded
    }

    /// `KEY=value` lines of the local stack's secrets file, if there is one.
    static func localSecrets(environment: [String: String], currentDirectory: String) -> [String: String] {
        let stateDirectory = environment["KINDRED_STATE_DIR"] ?? "\(currentDirectory)/.kindred"
        guard let text = try? String(contentsOfFile: "\(stateDirectory)/secrets.env", encoding: .utf8) else {
            return [:]
        }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            values[String(parts[0]).replacingOccurrences(of: "export ", with: "")] = String(parts[1])
                .trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        }
        return values
    }

    static let logger: Logger = {
        var logger = Logger(label: "kindred")
        logger.logLevel = .critical
        return logger
    }()

    /// A connected broker connection, or exit code 3 after `timeout`.
    func broker(timeout: Duration = .seconds(5)) async throws -> AMQPConnection {
        let endpoint: AMQPEndpoint
        do { endpoint = try AMQPEndpoint(url: amqpURL) } catch { throw CLIError("\(error)", exitCode: 2) }
        let connection = AMQPConnection(endpoint: endpoint, name: "kindred-cli", logger: Self.logger)
        // Waits for whichever comes first, the connection or the timeout; the reason it is
        // not connected, if the timeout came first.
        let failure = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                await connection.waitUntilConnected()
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                guard !connection.isConnected else { return nil }
                let reason = connection.lastError
                // Closing also releases the other task's wait.
                connection.close()
                return reason
            }
            _ = await group.next()
            // Connected: this ends the timeout task's sleep. Timed out: both are done.
            group.cancelAll()
            var reason: String?
            for await result in group { reason = reason ?? result }
            return reason
        }
        // The closed connection also releases the waiting task, so only this says which won.
        guard connection.isConnected else {
            connection.close()
            throw CLIError(
                "cannot reach the broker at \(endpoint): \(failure ?? connection.lastError)", exitCode: 3)
        }
        return connection
    }

    /// Loads the environment, connects to the broker, runs `body`, and closes the connection.
    static func withBroker(_ body: (AMQPConnection) async throws -> String) async throws -> String {
        let broker = try await load().broker()
        defer { broker.close() }
        return try await body(broker)
    }

    /// A pool on one service's database.
    func database(_ service: ServiceName) throws -> DatabasePool {
        guard let url = databaseURLs[service] else {
            throw CLIError(
                "no database configured for \(service.rawValue): set KINDRED_DATABASE_URL_\(service.rawValue.uppercased())",
                exitCode: 2)
        }
        return DatabasePool(connectionString: url, size: 2, name: "kindred-cli", logger: Self.logger)
    }
}

/// Renders rows as an aligned table for people.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// One JSON object per line, for scripts.
enum JSONLines {
    /// A JSON document indented for people, keys sorted.
    static func pretty(_ document: [UInt8]) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(document))
        let pretty = try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: pretty, as: UTF8.self)
    }

    static func render(_ objects: [[String: Any]]) -> String {
        objects.compactMap { object in
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) }
        }.joined(separator: "\n")
    }
}

/// "1 event", "3 events".
func counted(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
