import ArgumentParser
import Contracts
import Foundation
import Messaging

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one event, after checking its data against the contract.",
        discussion: """
            Examples:
              kindred publish --type UserSuspended --data suspension.json --subject 6F9619FF-8B86-D011-B42D-00C04FC964FF
            The data file holds the event's `data` object only; the envelope is made here, with
            `source` the type's producer and a new id.
            """)

    @Option(help: "The event type.") var type: String
    @Option(help: "A file with the event's data as JSON (- for standard input).") var data: String
    @Option(help: "The aggregate the event is about, usually a user id.") var subject: String?
    @Option(help: "The correlation id (default: a new one).") var correlation: String?

    func run() async throws {
        try await execute {
            let environment = try CLIEnvironment.load()
            let bytes = try Self.read(data)
            let broker = try await environment.broker()
            defer { broker.close() }
            let id = try await Self.publish(
                type: type, data: bytes, subject: subject, correlation: correlation, on: broker)
            return "published \(type) \(id)"
        }
    }

    static func read(_ path: String) throws -> [UInt8] {
        if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the data file \(path)", exitCode: 2)
        }
        return Array(data)
    }

    /// Validates and publishes; returns the new event id.
    static func publish(
        type: String, data: [UInt8], subject: String?, correlation: String?, on broker: AMQPConnection
    ) async throws -> String {
        let descriptor = try descriptor(named: type)
        let envelope: (header: EnvelopeHeader, body: [UInt8])
        do {
            envelope = try descriptor.makeEnvelope(data, subject, correlation ?? UUID().uuidString, Date())
        } catch {
            throw CLIError(
                "the data is not a valid \(type) v\(descriptor.dataVersion): \(EnvelopeCodec.explain(error))",
                exitCode: 2)
        }
        do {
            try await broker.publish(
                .event(body: envelope.body, header: envelope.header, publisher: descriptor.producer))
        } catch {
            throw CLIError.unreachable("the broker", error)
        }
        let id = envelope.header.id.uuidString
        return id
    }
}
