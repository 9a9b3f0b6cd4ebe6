import ArgumentParser
import Contracts
import Foundation

/// `kindred`: see every event, trace a request across services.
public struct KindredCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kindred",
        abstract: "Inspect, trace and replay Kindred's events; look after queues and dead letters.",
        discussion: """
            Connects with the same KINDRED_* variables as the services (eval "$(scripts/stack env)"),
            or, with none set, to the local stack that scripts/run started from this directory.
            Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 broker or database unreachable.
            """,
        subcommands: [
            ContractsCommand.self, TopologyCommand.self, EventsCommand.self, ReplayCommand.self, PublishCommand.self,
            TailCommand.self,
            DeadCommand.self, TraceCommand.self, AccountsCommand.self,
        ])

    public init() {}
}

/// Runs a command's work, printing its output, and turns a `CLIError` into its message and
/// exit code.
func execute(_ work: () async throws -> String) async throws {
    do {
        let output = try await work()
        if !output.isEmpty { print(output) }
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("kindred: \(error.description)\n".utf8))
        throw ExitCode(error.exitCode)
    }
}

/// Writes one line to standard output at once, with no buffer in between: into a pipe or
/// a file, stdio would hold lines back (`kindred tail | grep X` would show nothing) and a
/// Ctrl-C would lose them.
func writeLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Output options every listing command shares.
struct OutputOptions: ParsableArguments {
    @Flag(help: "One JSON object per line, for scripts, instead of a table.")
    var json = false
}

/// An event type named on the command line, checked against the registry.
func descriptor(named name: String) throws -> EventDescriptor {
    guard let descriptor = EventRegistry.descriptor(for: EventType(rawValue: name)) else {
        let known = EventRegistry.all.map(\.type.rawValue).sorted().joined(separator: ", ")
        throw CLIError("unknown event type '\(name)'; known types: \(known)", exitCode: 2)
    }
    return descriptor
}

/// A service named on the command line (by `option`).
func serviceName(_ name: String, option: String) throws -> ServiceName {
    guard let service = ServiceName(rawValue: name) else {
        let known = ServiceName.allCases.map(\.rawValue).joined(separator: ", ")
        throw CLIError("unknown service '\(name)' for \(option); known services: \(known)", exitCode: 2)
    }
    return service
}

/// A `--rate` option, checked.
func checked(rate: Double?) throws -> Double? {
    if let rate, rate <= 0 { throw CLIError("--rate must be above 0", exitCode: 2) }
    return rate
}

/// The entry point of the `kindred` executable.
public enum KindredCLI {
    public static func run() async { await KindredCommand.main() }
}
