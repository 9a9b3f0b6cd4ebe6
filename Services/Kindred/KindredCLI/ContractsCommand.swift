import ArgumentParser
import Contracts
import Foundation

struct ContractsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contracts",
        abstract: "List every event type: versions, producer, consuming queues, example and JSON Schema.",
        discussion: """
            Examples:
              kindred contracts
              kindred contracts --json | jq .type
              kindred contracts show UserRegistered     # an example document and its JSON Schema
              kindred contracts check                   # against Shared/Contracts/Schemas, for CI
              kindred contracts check --update          # record compatible changes and new versions
              kindred contracts permissions --check     # the broker permissions file against the registry
            """,
        subcommands: [List.self, Show.self, Check.self, Permissions.self], defaultSubcommand: List.self)

    struct Permissions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "permissions",
            abstract: "Each service's broker permissions, derived from the registry (the provisioning file).",
            discussion: """
                Prints compose/broker-permissions.tsv as the registry implies it: the resource
                permissions of each broker user and its topic permissions on the exchange kindred
                (publish only the types it produces, bind only the types it consumes). Both
                provisioning scripts read that file. --check fails (exit 1) when the committed file
                differs; --write rewrites it.
                """)

        static let defaultFile = "compose/broker-permissions.tsv"
        @Option(help: "The provisioning file.") var file = Self.defaultFile
        @Flag(help: "Fail unless the file matches the registry.") var check = false
        @Flag(help: "Rewrite the file from the registry.") var write = false

        func run() async throws {
            try await execute {
                let expected = BrokerPermissions.tsv()
                if write {
                    do {
                        try expected.write(toFile: file, atomically: true, encoding: .utf8)
                    } catch {
                        throw CLIError("cannot write \(file): \(error)", exitCode: 1)
                    }
                    return "wrote \(file)"
                }
                if check {
                    let committed = try? String(contentsOfFile: file, encoding: .utf8)
                    guard committed == expected else {
                        throw CLIError(
                            "\(file) does not match the registry: run kindred contracts permissions --write",
                            exitCode: 1)
                    }
                    return "\(file) matches the registry"
                }
                return expected
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the event types.")
        @OptionGroup var output: OutputOptions

        func run() async throws { try await execute { Self.render(json: output.json) } }

        static func render(json: Bool) -> String {
            let rows = EventRegistry.all.sorted { $0.type.rawValue < $1.type.rawValue }.map { descriptor in
                let queues =
                    descriptor.consumers.map { EventRegistry.queueName(for: descriptor.type, consumer: $0) }
                    + descriptor.perInstanceConsumers.map { "\(descriptor.type.rawValue).\($0.rawValue).<instance>" }
                return (descriptor, queues)
            }
            if json {
                return JSONLines.render(
                    rows.map { descriptor, queues in
                        [
                            "type": descriptor.type.rawValue, "role": "\(descriptor.role)",
                            "dataversion": descriptor.dataVersion,
                            "acceptedVersions": descriptor.acceptedVersions.sorted(),
                            "producer": descriptor.producer.rawValue,
                            "producers": descriptor.producers.map(\.rawValue).sorted(), "queues": queues,
                            "schema": (try? descriptor.schemaSnapshot().schema.jsonObject) ?? [:],
                        ]
                    })
            }
            return Table.render(
                ["TYPE", "ROLE", "VERSION", "PRODUCER", "QUEUES"],
                rows.map { descriptor, queues in
                    [
                        descriptor.type.rawValue, "\(descriptor.role)", "\(descriptor.dataVersion)",
                        descriptor.producers.map(\.rawValue).sorted().joined(separator: ","),
                        queues.isEmpty ? "-" : queues.joined(separator: ", "),
                    ]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print an example CloudEvents document of a type and the JSON Schema of its data.")
        @Argument(help: "The event type, e.g. UserRegistered.") var type: String

        func run() async throws { try await execute { try Self.render(type: type) } }

        static func render(type: String) throws -> String {
            let descriptor = try descriptor(named: type)
            let schema = try descriptor.schemaSnapshot().document()
            return "example document:\n" + (try JSONLines.pretty(descriptor.exampleDocument))
                + "\n\nJSON Schema of data (v\(descriptor.dataVersion)):\n" + String(decoding: schema, as: UTF8.self)
        }
    }
}

extension ContractsCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Compare every event's JSON Schema with the committed snapshots; fail on a breaking change.",
            discussion: """
                Each registered type at its current dataversion is compared with
                <snapshots>/<Type>.v<version>.json. Breaking, and so failing: a removed or retyped
                field, a new required field, a field that became required or optional, changed enum
                values, a type that is no longer registered, a version that went down. Raise the
                type's dataVersion for a breaking change: the new version needs its own snapshot,
                and the old one stays, since consumers may still accept it. A new optional field is
                compatible.

                A missing snapshot fails too; --update writes the snapshots of new types, new
                versions and compatible changes (never over a breaking change). Exit code 1 on
                failure.
                """)

        @Option(help: "The directory of committed snapshots.") var snapshots = ContractCheck.defaultDirectory
        @Flag(help: "Write the snapshots of new types, new versions and compatible changes.") var update = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await execute {
                let check = try ContractCheck.run(directory: snapshots, update: update)
                let report = check.render(json: output.json)
                if check.failed {
                    FileHandle.standardError.write(Data((report + "\n").utf8))
                    throw CLIError("contracts check failed: see above", exitCode: 1)
                }
                return report
            }
        }
    }
}

/// The comparison of the registry's schemas with the committed snapshots.
struct ContractCheck {
    static let defaultDirectory = "Shared/Contracts/Schemas"

    enum Verdict: Equatable {
        case unchanged
        case compatible(additions: [String])
        case breaking([String])
        /// No snapshot of this version; `previous` is the highest committed one, if any.
        case missingSnapshot(previous: Int?)
        case versionLowered(committed: Int)
        case noLongerRegistered
        case written

        var fails: Bool {
            switch self {
            case .unchanged, .compatible, .written: return false
            case .breaking, .missingSnapshot, .versionLowered, .noLongerRegistered: return true
            }
        }

        var detail: String {
            switch self {
            case .unchanged: return "matches its snapshot"
            case .compatible(let additions):
                let what = additions.isEmpty ? "" : ": new optional \(additions.joined(separator: ", "))"
                return "compatible\(what); --update records it"
            case .breaking(let changes):
                return "BREAKING: " + changes.joined(separator: "; ") + "; raise dataVersion to make this change"
            case .missingSnapshot(let previous):
                return previous.map { "version raised from \($0): no snapshot yet; --update writes it" }
                    ?? "new type: no snapshot yet; --update writes it"
            case .versionLowered(let committed): return "dataVersion went down from \(committed)"
            case .noLongerRegistered: return "has a snapshot but is no longer registered: its consumers break"
            case .written: return "snapshot written"
            }
        }
    }

    struct Finding: Equatable {
        var type: String
        var version: Int
        var verdict: Verdict
    }

    var findings: [Finding]
    var failed: Bool { findings.contains { $0.verdict.fails } }

    /// Compares current schemas with committed ones (any versions of any types).
    static func compare(current: [SchemaSnapshot], committed: [SchemaSnapshot]) -> [Finding] {
        let registered = Set(current.map(\.type))
        var findings = current.map { snapshot -> Finding in
            let versions = committed.filter { $0.type == snapshot.type }
            let verdict: Verdict
            if let newest = versions.map(\.dataVersion).max(), newest > snapshot.dataVersion {
                verdict = .versionLowered(committed: newest)
            } else if let same = versions.first(where: { $0.dataVersion == snapshot.dataVersion }) {
                let breaking = snapshot.schema.breakingChanges(from: same.schema)
                if !breaking.isEmpty {
                    verdict = .breaking(breaking)
                } else if snapshot.schema == same.schema {
                    verdict = .unchanged
                } else {
                    verdict = .compatible(additions: snapshot.schema.additions(from: same.schema))
                }
            } else {
                verdict = .missingSnapshot(previous: versions.map(\.dataVersion).max())
            }
            return Finding(type: snapshot.type.rawValue, version: snapshot.dataVersion, verdict: verdict)
        }
        for gone in Set(committed.map(\.type)).subtracting(registered).sorted(by: { $0.rawValue < $1.rawValue }) {
            let version = committed.filter { $0.type == gone }.map(\.dataVersion).max() ?? 0
            findings.append(Finding(type: gone.rawValue, version: version, verdict: .noLongerRegistered))
        }
        return findings.sorted { ($0.type, $0.version) < ($1.type, $1.version) }
    }

    static func current() throws -> [SchemaSnapshot] {
        try EventRegistry.all.map { try $0.schemaSnapshot() }
    }

    static func committed(in directory: String) throws -> [SchemaSnapshot] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CLIError(
                "no snapshot directory at \(directory): run kindred from the repository root or pass --snapshots",
                exitCode: 2)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
        return try files.sorted().map { file in
            let path = "\(directory)/\(file)"
            do {
                let snapshot = try SchemaSnapshot(document: Data(contentsOf: URL(fileURLWithPath: path)))
                guard snapshot.fileName == file else {
                    throw DataSchemaError("its title and version say \(snapshot.fileName)")
                }
                return snapshot
            } catch {
                throw CLIError("cannot read the snapshot \(path): \(error)", exitCode: 2)
            }
        }
    }

    /// Compares, and with `update` writes the snapshots that may be written.
    static func run(directory: String, update: Bool) throws -> ContractCheck {
        let current = try current()
        var findings = compare(current: current, committed: try committed(in: directory))
        guard update else { return ContractCheck(findings: findings) }
        for (index, finding) in findings.enumerated() {
            switch finding.verdict {
            case .compatible, .missingSnapshot:
                guard
                    let snapshot = current.first(where: {
                        $0.type.rawValue == finding.type && $0.dataVersion == finding.version
                    })
                else { continue }
                try snapshot.document().write(to: URL(fileURLWithPath: "\(directory)/\(snapshot.fileName)"))
                findings[index].verdict = .written
            default: continue
            }
        }
        return ContractCheck(findings: findings)
    }

    func render(json: Bool) -> String {
        if json {
            return JSONLines.render(
                findings.map {
                    ["type": $0.type, "dataversion": $0.version, "ok": !$0.verdict.fails, "detail": $0.verdict.detail]
                })
        }
        return Table.render(
            ["TYPE", "VERSION", "RESULT", "DETAIL"],
            findings.map { [$0.type, "\($0.version)", $0.verdict.fails ? "FAIL" : "ok", $0.verdict.detail] })
    }
}
