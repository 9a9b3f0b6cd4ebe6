import Contracts
import Foundation
import Glibc
import OutboundHTTP
import TestSupport

/// The six service executables, each started as its own process with its own broker user,
/// database role and port, as `scripts/run` starts them.
final class RunningSuite: Sendable {
    let processes: [ServiceName: Process]
    let ports: [ServiceName: Int]
    let logDirectory: URL

    var gatewayURL: String { "http://127.0.0.1:\(ports[.gateway] ?? 0)" }

    static func start() throws -> RunningSuite {
        let binaries = URL(fileURLWithPath: try TestEnvironment.value("KINDRED_BIN_DIR"))
        let base = Int(ProcessInfo.processInfo.environment["KINDRED_E2E_PORT_BASE"] ?? "") ?? 18080
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent(
            TestEnvironment.uniqueName("kindred-e2e-"))
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var processes: [ServiceName: Process] = [:]
        var ports: [ServiceName: Int] = [:]
        for (offset, service) in ServiceName.allCases.enumerated() {
            let port = base + offset
            var environment = [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                "KINDRED_HTTP_PORT": String(port),
                "KINDRED_AMQP_URL": try TestEnvironment.amqpURL(of: service.rawValue),
                "KINDRED_DATABASE_URL": try TestEnvironment.databaseURL(of: service.rawValue),
                "KINDRED_INSTANCE_ID": "e2e",
                "KINDRED_LOG_LEVEL": "info",
            ]
            if service == .gateway {
                environment["KINDRED_JWT_SECRET"] = try TestEnvironment.value("KINDRED_JWT_SECRET")
            }
            let process = Process()
            process.executableURL = binaries.appendingPathComponent(service.rawValue)
            process.environment = environment
            let log = logs.appendingPathComponent("\(service.rawValue).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            processes[service] = process
            ports[service] = port
        }
        return RunningSuite(processes: processes, ports: ports, logDirectory: logs)
    }

    private init(processes: [ServiceName: Process], ports: [ServiceName: Int], logDirectory: URL) {
        self.processes = processes
        self.ports = ports
        self.logDirectory = logDirectory
    }

    /// Waits until every service answers `/ready` with 200; returns the ones that do not.
    func waitUntilReady(timeout: Duration = .seconds(90)) async throws -> [ServiceName] {
        let client = HTTPClient(timeout: .seconds(2))
        var pending = Set(ServiceName.allCases)
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
    func tail(of service: ServiceName, lines: Int = 30) -> String {
        let path = logDirectory.appendingPathComponent("\(service.rawValue).log").path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Sends SIGTERM to every service and waits for them to exit; returns their exit codes.
    func stop(timeout: Duration = .seconds(30)) async throws -> [ServiceName: Int32] {
        for process in processes.values where process.isRunning { process.terminate() }
        let stopped = try await eventually(timeout: timeout, every: .milliseconds(100)) {
            processes.values.allSatisfy { !$0.isRunning }
        }
        if !stopped {
            for process in processes.values where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        var codes: [ServiceName: Int32] = [:]
        for (service, process) in processes {
            process.waitUntilExit()
            codes[service] = process.terminationStatus
        }
        return codes
    }
}
