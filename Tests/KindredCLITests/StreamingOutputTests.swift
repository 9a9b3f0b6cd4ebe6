import Contracts
import Foundation
import Glibc
import Messaging
import TestSupport
import Testing

/// The `kindred` executable with its standard output on a pipe, as in `kindred tail | grep`.
@Suite("kindred through a pipe", .timeLimit(.minutes(2)))
struct StreamingOutputTests {
    @Test("kindred tail writes each line into a pipe as the event comes, while it keeps running")
    func tailThroughAPipe() async throws {
        let binary = try TestEnvironment.value("KINDRED_BIN_DIR") + "/kindred"
        let fifo = NSTemporaryDirectory() + TestEnvironment.uniqueName("kindred-tail-") + ".fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        // Our end opens first (without blocking), so the child's open for writing succeeds.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let tail = try ChildProcess(
            path: binary, arguments: ["tail", "--type", "ProfileCreated"],
            environment: ProcessInfo.processInfo.environment, outputPath: fifo)
        defer { tail.signal(SIGKILL) }

        let broker = AMQPConnection(
            endpoint: try TestEnvironment.adminAMQPEndpoint(), name: "tail-test", logger: TestEnvironment.logger("amqp")
        )
        defer { broker.close() }
        await broker.waitUntilConnected()
        let subject = UUID()
        let envelope = Envelope(
            source: .profile, time: Date(), subject: subject.uuidString,
            data: ProfileCreated(userId: subject, sequence: 1), correlationID: "tail-through-a-pipe")
        let publisher = EventPublisher(connection: broker, service: .profile)
        var received = ""
        // The tail's queue exists only once it started: publish until a line arrives.
        let arrived = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            try await publisher.publish(envelope)
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(reader, &buffer, buffer.count)
            if count > 0 { received += String(decoding: buffer.prefix(count), as: UTF8.self) }
            return received.contains(subject.uuidString)
        }
        #expect(arrived, "nothing came through the pipe: \(received)")
        #expect(received.contains("ProfileCreated"))
        #expect(tail.isRunning, "the line came while tail was still streaming, not at its exit")
    }
}
