import Contracts
import Foundation
import Glibc
import OutboundHTTP
import Synchronization
import Testing

/// The six service executables, each started as its own process with its own broker user,
/// database role and port, as `scripts/run` starts them. Tests can kill, stop and restart
/// them, and take the broker or the database away through `scripts/stack`.
public final class RunningSuite: Sendable {
    public let ports: [ServiceName: Int]
    public let logDirectory: URL
    private let binaries: URL
    private let overrides: [ServiceName: [String: String]]
    private let processes = Mutex<[ServiceName: ChildProcess]>([:])

    public var gatewayURL: String { "http://127.0.0.1:\(ports[.gateway] ?? 0)" }

    /// Each service's admin port (`/metrics`, the detailed `/ready`): its port + 1000.
    public func adminURL(of service: ServiceName) -> String { "http://127.0.0.1:\((ports[service] ?? 0) + 1000)" }

    /// Starts all six; `overrides` adds or replaces variables per service.
    public static func start(overrides: [ServiceName: [String: String]] = [:]) throws -> RunningSuite {
        let base = Int(ProcessInfo.processInfo.environment["KINDRED_E2E_PORT_BASE"] ?? "") ?? 18080
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent(
            TestEnvironment.uniqueName("kindred-e2e-"))
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let ports = Dictionary(
            uniqueKeysWithValues: ServiceName.allCases.enumerated().map { ($1, base + $0) })
        let suite = RunningSuite(
            ports: ports, logDirectory: logs,
            binaries: URL(fileURLWithPath: try TestEnvironment.value("KINDRED_BIN_DIR")), overrides: overrides)
        for service in ServiceName.allCases { try suite.start(service) }
        return suite
    }

    private init(
        ports: [ServiceName: Int], logDirectory: URL, binaries: URL, overrides: [ServiceName: [String: String]]
    ) {
        self.ports = ports
        self.logDirectory = logDirectory
        self.binaries = binaries
        self.overrides = overrides
    }

    /// Starts (or restarts) one service; its output is appended to its log file.
    public func start(_ service: ServiceName) throws {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "KINDRED_HTTP_PORT": String(ports[service] ?? 0),
            "KINDRED_ADMIN_HTTP_PORT": String((ports[service] ?? 0) + 1000),
            "KINDRED_AMQP_URL": try TestEnvironment.amqpURL(of: service.rawValue),
            "KINDRED_DATABASE_URL": try TestEnvironment.databaseURL(of: service.rawValue),
            "KINDRED_INSTANCE_ID": "e2e",
            "KINDRED_LOG_LEVEL": "info",
        ]
        if service == .gateway {
            environment["KINDRED_JWT_SECRET"] = try TestEnvironment.value("KINDRED_JWT_SECRET")
            // Every test client comes from 127.0.0.1: tests of the limits set their own.
            environment["KINDRED_RATE_LIMIT_AUTH_PER_MINUTE"] = "1000000"
            environment["KINDRED_RATE_LIMIT_API_PER_MINUTE"] = "1000000"
            environment["KINDRED_MEDIA_PUBLIC_URL"] = "http://127.0.0.1:\(ports[.media] ?? 0)"
        }
        if service == .media {
            // Each suite's blobs in its own folder, beside its logs.
            environment["KINDRED_MEDIA_DIR"] = logDirectory.appendingPathComponent("media").path
        }
        if service == .gateway || service == .media {
            // The signing keys of photo URLs: the gateway mints them, media checks them.
            environment["KINDRED_MEDIA_URL_KEYS"] = try TestEnvironment.value("KINDRED_MEDIA_URL_KEYS")
        }
        environment.merge(overrides[service] ?? [:]) { _, override in override }
        let process = try ChildProcess(
            path: binaries.appendingPathComponent(service.rawValue).path, environment: environment,
            outputPath: logDirectory.appendingPathComponent("\(service.rawValue).log").path)
        processes.withLock { $0[service] = process }
    }

    /// `kill -9`: no chance to finish anything.
    public func kill9(_ service: ServiceName) async {
        guard let process = processes.withLock({ $0[service] }) else { return }
        process.signal(SIGKILL)
        _ = await process.exitStatus()
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `timeout`); returns the exit status.
    public func terminate(_ service: ServiceName, timeout: Duration = .seconds(30)) async throws -> Int32 {
        guard let process = processes.withLock({ $0[service] }) else { return -1 }
        process.signal(SIGTERM)
        let exited = try await eventually(timeout: timeout, every: .milliseconds(50)) { !process.isRunning }
        if !exited { process.signal(SIGKILL) }
        return await process.exitStatus()
    }

    /// Waits until every service answers `/ready` with 200; returns the ones that do not.
    public func waitUntilReady(_ services: [ServiceName] = ServiceName.allCases, timeout: Duration = .seconds(90))
        async throws -> [ServiceName]
    {
        let client = HTTPClient(timeout: .seconds(2))
        var pending = Set(services)
        _ = try await eventually(timeout: timeout, every: .milliseconds(200)) {
            for service in pending {
                let response = try? await client.send("GET", "http://127.0.0.1:\(ports[service] ?? 0)/ready")
                if response?.status == 200 { pending.remove(service) }
            }
            return pending.isEmpty
        }
        return pending.sorted { $0.rawValue < $1.rawValue }
    }

    /// The last lines a service logged, for failure messages.
    public func tail(of service: ServiceName, lines: Int = 30) -> String {
        let path = logDirectory.appendingPathComponent("\(service.rawValue).log").path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Everything a service logged.
    public func log(of service: ServiceName) -> String {
        (try? String(
            contentsOfFile: logDirectory.appendingPathComponent("\(service.rawValue).log").path, encoding: .utf8))
            ?? ""
    }

    /// The tails of several services' logs, headed by their names.
    public func tails(_ services: [ServiceName]) -> String {
        services.map { "--- \($0.rawValue)\n\(tail(of: $0))" }.joined(separator: "\n")
    }

    /// Sends SIGTERM to every service and waits for them to exit; returns their exit codes.
    public func stop(timeout: Duration = .seconds(30)) async throws -> [ServiceName: Int32] {
        var codes: [ServiceName: Int32] = [:]
        try await withThrowingTaskGroup(of: (ServiceName, Int32).self) { group in
            for service in ServiceName.allCases {
                group.addTask { (service, try await self.terminate(service, timeout: timeout)) }
            }
            for try await (service, code) in group { codes[service] = code }
        }
        return codes
    }
}

/// Takes the broker or the database away and brings it back, through `scripts/stack`.
public enum Stack {
    public static func run(_ command: String) async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            TestEnvironment.uniqueName("stack-")
        ).path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try ChildProcess(
            path: try TestEnvironment.value("KINDRED_STACK_SCRIPT"), arguments: [command],
            environment: ProcessInfo.processInfo.environment, outputPath: output)
        let status = await process.exitStatus()
        guard status == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw StackCommandFailed(command: command, status: status, output: text)
        }
    }

    public struct StackCommandFailed: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let output: String
        public var description: String { "scripts/stack \(command) exited with \(status):\n\(output)" }
    }
}

extension RunningSuite {
    /// Starts the six services, runs `body` once all are ready, then stops them with
    /// SIGTERM. Records an issue naming whatever went wrong — services that never became
    /// ready, an error `body` threw, a service that did not exit 0 — with the last lines of
    /// the logs that matter. Returns the stopped suite, whose logs can still be read.
    @discardableResult
    public static func run(
        overrides: [ServiceName: [String: String]] = [:], logsOnFailure: [ServiceName] = [.gateway, .profile],
        _ body: (RunningSuite) async throws -> Void
    ) async throws -> RunningSuite {
        let suite = try start(overrides: overrides)
        let notReady = try await suite.waitUntilReady()
        if notReady.isEmpty {
            do {
                try await body(suite)
            } catch {
                Issue.record("\(error)\n\(suite.tails(logsOnFailure))")
            }
        } else {
            Issue.record("not ready: \(notReady.map(\.rawValue)):\n\(suite.tails(notReady))")
        }
        let codes = try await suite.stop()
        for (service, code) in codes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where code != 0 {
            Issue.record("\(service.rawValue) exited with \(code) after SIGTERM:\n\(suite.tail(of: service))")
        }
        return suite
    }
}
