import ArgumentParser
import Contracts
import Foundation
import Glibc
import Messaging
import Synchronization

struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "Dead letters: count, show, send back to their queue, or purge.",
        discussion: """
            A message ends in <queue>.dead when it is malformed, of an unknown type or version, or
            its handler failed on every retry. Its headers say why (x-kindred-dead-reason,
            x-kindred-dead-error, x-kindred-attempts, x-kindred-original-queue).

            Examples:
              kindred dead list
              kindred dead show --queue UserRegistered.profile.dead --max 5
              kindred dead replay --reason handler-failed                 # what it would do
              kindred dead replay --reason handler-failed --rate 50 --execute
              kindred dead purge --queue UserRegistered.profile.dead --reason malformed --yes
            list and show only look: messages stay in their queues, in their order.
            """,
        subcommands: [List.self, Show.self, Replay.self, Purge.self], defaultSubcommand: List.self)

    /// Every service's `.dead` queue, from the registry.
    static var deadQueues: [String] {
        ServiceName.allCases.flatMap { service in
            EventRegistry.consumed(by: service).map {
                EventRegistry.deadQueueName(for: EventRegistry.queueName(for: $0.type, consumer: service))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Count dead letters by queue and failure reason.")
        @OptionGroup var selection: DeadSelection
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await execute {
                try await CLIEnvironment.withBroker {
                    try await Self.render(broker: $0, selection: selection, json: output.json)
                }
            }
        }

        /// (dead queue, reason) → count, looking at each message without taking it; and
        /// each queue's depth.
        static func census(broker: AMQPConnection, selection: DeadSelection) async throws -> [String: [String: Int]] {
            try await censusAndDepths(broker: broker, selection: selection).census
        }

        static func censusAndDepths(broker: AMQPConnection, selection: DeadSelection) async throws
            -> (census: [String: [String: Int]], depths: [String: Int])
        {
            var census: [String: [String: Int]] = [:]
            var depths: [String: Int] = [:]
            let letters = try await DeadLetters.peek(
                broker: broker, selection: selection, max: Int.max, onDepth: { depths[$0] = $1 })
            for letter in letters { census[letter.queue, default: [:]][letter.reason, default: 0] += 1 }
            return (census, depths)
        }

        static func render(broker: AMQPConnection, selection: DeadSelection, json: Bool) async throws -> String {
            let (census, depths) = try await censusAndDepths(broker: broker, selection: selection)
            let rows = census.keys.sorted().flatMap { queue in
                (census[queue] ?? [:]).sorted { $0.key < $1.key }.map { (queue, $0.key, $0.value) }
            }
            if json {
                return JSONLines.render(rows.map { ["queue": $0.0, "reason": $0.1, "count": $0.2] })
            }
            if rows.isEmpty { return "no dead letters" }
            let notes = depths.sorted { $0.key < $1.key }.filter { $0.value > DeadLetters.perQueueLimit }.map {
                "\($0.key): counted the first \(DeadLetters.perQueueLimit) of \($0.value) messages"
            }
            return Table.render(["DEAD QUEUE", "REASON", "COUNT"], rows.map { [$0.0, $0.1, "\($0.2)"] })
                + notes.map { "\nnote: " + $0 }.joined()
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show dead letters: why each failed, and (with --json) the whole message.")
        @OptionGroup var selection: DeadSelection
        @Option(help: "At most this many messages.") var max = 20
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await execute {
                try await CLIEnvironment.withBroker { broker in
                    let letters = try await DeadLetters.peek(broker: broker, selection: selection, max: max)
                    return Self.render(letters, json: output.json)
                }
            }
        }

        static func render(_ letters: [DeadLetter], json: Bool) -> String {
            if json { return JSONLines.render(letters.map(\.jsonObject)) }
            if letters.isEmpty { return "no dead letters match" }
            return Table.render(
                ["MESSAGE ID", "TYPE", "DEAD QUEUE", "REASON", "ATTEMPTS", "LAST FAILED", "ERROR"],
                letters.map { letter in
                    [
                        letter.messageID, letter.type, letter.queue, letter.reason, "\(letter.attempts)",
                        letter.lastFailedAt ?? "-", String(letter.error.prefix(120)),
                    ]
                })
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Send dead letters back to the queue they failed in. Shows what it would do unless --execute.",
            discussion: """
                Each selected message is published to its original queue with its failure headers
                cleared (so it gets every retry again), x-kindred-replay-id added and its message id
                kept, and is taken off .dead only once the broker confirmed the copy. Fix the cause
                first: a message that fails again comes back to .dead.

                Requests (ProfileUpdateRequested, …) are left in .dead unless --force: their requester
                stopped waiting long ago, and applying one now could overwrite newer changes. With
                --force they go back without their deadline.
                """)
        @OptionGroup var selection: DeadSelection
        @Option(help: "At most this many messages.") var max = 1000
        @Option(help: "At most this many messages per second.") var rate: Double?
        @Flag(name: .customLong("execute"), help: "Do it; without this flag only shows what it would do.")
        var executeForReal = false
        @Flag(help: "Send requests back too (without their deadline).") var force = false

        func run() async throws {
            try await execute {
                let rate = try checked(rate: rate)
                return try await CLIEnvironment.withBroker { broker in
                    guard executeForReal else {
                        let found = try await DeadLetters.peek(broker: broker, selection: selection, max: max)
                        let letters = found.filter { force || !$0.isRequest }
                        let requests = found.count - letters.count
                        return DeadLetters.summary(letters, verb: "would go back", warnIfHopeless: true)
                            + (requests > 0
                                ? "\nwarning: \(requests) request\(requests == 1 ? "" : "s") stay in .dead (add --force to send them back)"
                                : "")
                            + "\n(dry run: add --execute to send them back)"
                    }
                    // Its total grows as each queue's depth is found, up to --max.
                    let progress = ProgressBar("sending back", total: 0, limit: max)
                    let (replayID, letters) = try await DeadLetters.replay(
                        broker: broker, selection: selection, max: max, rate: rate, includeRequests: force,
                        progress: progress)
                    progress.finish()
                    return DeadLetters.summary(letters, verb: "went back") + "\n(replay \(replayID))"
                }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "purge", abstract: "Delete dead letters for good. Asks first unless --yes.")
        @OptionGroup var selection: DeadSelection
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            try await execute {
                try await CLIEnvironment.withBroker { broker in
                    let letters = try await DeadLetters.peek(broker: broker, selection: selection, max: Int.max)
                    if letters.isEmpty { return "no dead letters match" }
                    if !yes {
                        guard isatty(STDIN_FILENO) == 1 else {
                            throw CLIError("purge deletes messages for good: pass --yes to confirm", exitCode: 2)
                        }
                        print(DeadLetters.summary(letters, verb: "would be deleted"))
                        print("Delete them for good? Type 'yes': ", terminator: "")
                        guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                            throw CLIError("not purged", exitCode: 1)
                        }
                    }
                    // Only what was counted (and shown): not what arrived meanwhile.
                    let purged = try await DeadLetters.purge(
                        broker: broker, selection: selection, only: Set(letters.map(\.delivery.properties.messageID)))
                    return DeadLetters.summary(purged, verb: "deleted")
                }
            }
        }
    }
}

/// Which dead letters a `dead` command works on.
struct DeadSelection: ParsableArguments {
    @Option(help: "Only this dead queue, e.g. UserRegistered.profile.dead (default: every one).") var queue: String?
    @Option(help: "Only this failure reason: handler-failed, malformed, unknown-type, unaccepted-version…")
    var reason: String?
    @Option(help: "Only this event type.") var type: String?
    @Option(help: "Only the message with this id.") var id: String?
    @Option(help: "Only messages of this correlation id (one client request).") var correlation: String?

    /// The dead queues to look in.
    func queues() throws -> [String] {
        if let type { _ = try descriptor(named: type) }
        guard let queue else {
            // Queue names start with the event type, so --type narrows where to look.
            return DeadCommand.deadQueues.filter { queue in type.map { queue.hasPrefix("\($0).") } ?? true }
        }
        guard queue.hasSuffix(".dead") else {
            throw CLIError("--queue names a dead queue, ending in .dead (\(DeadCommand.deadQueues[0]))", exitCode: 2)
        }
        return [queue]
    }

    func matches(_ letter: DeadLetter) -> Bool {
        (reason == nil || letter.reason == reason) && (type == nil || letter.type == type)
            && (id == nil || letter.messageID.caseInsensitiveCompare(id ?? "") == .orderedSame)
            && (correlation == nil || letter.delivery.properties.correlationID == correlation)
    }
}

/// One message in a `.dead` queue, read from its headers.
struct DeadLetter: Sendable {
    var delivery: Delivery

    /// The dead queue it is in.
    var queue: String { delivery.queue }
    var messageID: String { delivery.properties.messageID ?? "-" }
    var type: String { delivery.properties.type ?? "-" }
    var reason: String { header(DeadLetterHeader.reason) ?? "unknown" }
    var error: String { header(DeadLetterHeader.error) ?? "" }
    var attempts: Int { delivery.failedAttempts }
    /// A request of the gateway's: worthless once its requester stopped waiting.
    var isRequest: Bool { EventRegistry.descriptor(for: EventType(rawValue: type))?.role == .request }
    var lastFailedAt: String? { header(DeadLetterHeader.lastFailedAt) }
    /// The queue it failed in: the header, or the dead queue's name without `.dead`.
    var originalQueue: String {
        header(DeadLetterHeader.originalQueue) ?? String(queue.dropLast(".dead".count))
    }

    private func header(_ name: String) -> String? { delivery.properties.headers[name]?.stringValue }

    var jsonObject: [String: Any] {
        var headers: [String: Any] = [:]
        for (name, value) in delivery.properties.headers {
            headers[name] = value.stringValue ?? value.intValue.map { $0 as Any } ?? "\(value)"
        }
        let body: Any =
            (try? JSONSerialization.jsonObject(with: Data(delivery.body)))
            ?? String(decoding: delivery.body, as: UTF8.self)
        return [
            "queue": queue, "originalQueue": originalQueue, "messageId": messageID, "type": type, "reason": reason,
            "error": error, "attempts": attempts, "headers": headers, "body": body,
        ]
    }

    /// The copy that goes back to the original queue: failure headers cleared, message id
    /// kept (so an inbox that did process it after all still recognises it).
    func replayMessage(replayID: String) -> OutgoingMessage {
        var properties = delivery.properties
        for header in DeadLetterHeader.failureHeaders { properties.headers[header] = nil }
        properties.headers[ReplayHeader.replayID] = .string(replayID)
        properties.headers[ReplayHeader.originalMessageID] = delivery.properties.messageID.map { .string($0) }
        // Only a forced request comes back: it is applied whatever its deadline said.
        properties.headers[RequestHeader.deadline] = nil
        properties.expirationMilliseconds = nil
        properties.persistent = true
        return OutgoingMessage(
            exchange: "", routingKey: originalQueue, body: delivery.body, properties: properties, mandatory: true)
    }
}

/// Reads `.dead` queues through a connection of their own: every message is seen once
/// (held unacknowledged until the end, so none comes round twice); those taken are
/// acknowledged, the rest requeued in place at the end (or by closing the connection, if
/// it must stop early).
enum DeadLetters {
    /// At most this many messages of one queue are looked at per command.
    static let perQueueLimit = 10_000

    /// Visits each message present when the sweep starts; `take` returns the messages of a
    /// window (at most `window`) to acknowledge, after doing whatever it does with them.
    /// `takes` says whether `take` ever returns messages.
    /// It stops early once `enough` says so (checked after each window).
    /// `onDepth` learns how many messages the queue held.
    static func sweep(
        broker: AMQPConnection, queue: String, window: Int = 500, takes: Bool, enough: () -> Bool = { false },
        onDepth: (Int) -> Void = { _ in }, take: ([DeadLetter]) async throws -> [DeadLetter]
    ) async throws {
        let found: Int
        do {
            found = try await broker.status(ofQueue: queue)?.messages ?? 0
        } catch {
            throw CLIError.unreachable("the broker", error)
        }
        onDepth(found)
        guard found > 0 else { return }
        let depth = min(found, perQueueLimit)
        let reader = AMQPConnection(endpoint: broker.endpoint, name: "kindred-dead", logger: CLIEnvironment.logger)
        defer { reader.close() }
        // The reader is closed if connecting takes over 5 s, or once no message came for 2 s
        // of waiting (something else emptied the queue meanwhile).
        let quiet = QuietClock(armedFor: .seconds(5))
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                if quiet.expired() {
                    reader.close()
                    return
                }
            }
        }
        defer { watchdog.cancel() }
        var seen = 0
        var pending: [DeadLetter] = []
        var kept: [Delivery] = []
        func flush() async throws {
            // Once the reader is closed nothing may be taken: it could not be acknowledged.
            // The time `take` spends (a paced publish) is not waiting for the queue.
            guard quiet.pause() || !takes else { return }
            let taken = Set(try await take(pending).map(\.delivery.deliveryTag))
            for letter in pending {
                if taken.contains(letter.delivery.deliveryTag) {
                    reader.acknowledge(letter.delivery)
                } else {
                    kept.append(letter.delivery)
                }
            }
            pending = []
            quiet.arm()
        }
        do {
            // The stream lives only in this block: releasing it cancels the consumer (before
            // the requeues below), so what is requeued is not delivered to it again.
            let deliveries = try await reader.consume(queue: queue, prefetch: UInt16(min(depth, Int(UInt16.max))))
            quiet.arm()
            var generation: Int?
            for try await delivery in deliveries {
                quiet.arm()
                // After a reconnect the broker hands back everything unacknowledged: going on
                // would see messages twice.
                guard generation == nil || generation == delivery.generation else {
                    throw CLIError(
                        "the broker connection dropped while reading \(queue); what was done before stays done, run the command again for the rest"
                    )
                }
                generation = delivery.generation
                pending.append(DeadLetter(delivery: delivery))
                seen += 1
                if seen >= depth { break }
                if pending.count >= window {
                    try await flush()
                    if enough() { break }
                }
            }
        } catch  where quiet.timedOut {
            // Closed by the watchdog: what was read is all there is.
        }
        if quiet.timedOut && seen == 0 {
            throw CLIError("could not read \(queue) (it held \(depth)): \(reader.lastError); nothing was taken")
        }
        if !pending.isEmpty { try await flush() }
        guard !quiet.timedOut, !kept.isEmpty else { return }
        // What was not taken goes back now, to its place in the queue (the broker requeues
        // at the original position). The broker applies requeues asynchronously, so wait
        // (a little) until the queue shows them ready again: the next command then finds the
        // queue as this one leaves it.
        for delivery in kept { reader.reject(delivery, requeue: true) }
        let settled = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < settled {
            guard let ready = try? await reader.status(ofQueue: queue)?.messages, ready < kept.count else { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The selected messages, left in place.
    static func peek(
        broker: AMQPConnection, selection: DeadSelection, max: Int, onDepth: (String, Int) -> Void = { _, _ in }
    ) async throws -> [DeadLetter] {
        var found: [DeadLetter] = []
        for queue in try selection.queues() where found.count < max {
            try await sweep(
                broker: broker, queue: queue, takes: false, enough: { found.count >= max },
                onDepth: { onDepth(queue, $0) },
                take: { letters in
                    found += letters.filter(selection.matches).prefix(max - found.count)
                    return []
                })
        }
        return found
    }

    /// Sends the selected messages back to their original queues; each is taken off `.dead`
    /// only after the broker confirmed its copy.
    static func replay(
        broker: AMQPConnection, selection: DeadSelection, max: Int, rate: Double?, includeRequests: Bool = false,
        progress: ProgressBar? = nil
    ) async throws -> (replayID: String, letters: [DeadLetter]) {
        let replayID = UUID().uuidString
        var publisher = PacedPublisher(broker: broker, rate: rate)
        var sent: [DeadLetter] = []
        var failure: (any Error)?
        for queue in try selection.queues() where sent.count < max && failure == nil {
            try await sweep(
                broker: broker, queue: queue, window: publisher.window, takes: true,
                enough: { sent.count >= max || failure != nil }, onDepth: { progress?.expect($0) },
                take: { letters in
                    let chosen = Array(
                        letters.filter { selection.matches($0) && (includeRequests || !$0.isRequest) }.prefix(
                            max - sent.count))
                    let outcomes = try await publisher.publishEach(chosen.map { $0.replayMessage(replayID: replayID) })
                    // Only what the broker confirmed leaves .dead.
                    var confirmed: [DeadLetter] = []
                    for (letter, outcome) in zip(chosen, outcomes) {
                        switch outcome {
                        case .success: confirmed.append(letter)
                        case .failure(let error): failure = failure ?? error
                        }
                    }
                    sent += confirmed
                    progress?.advance(by: confirmed.count)
                    return confirmed
                })
        }
        if let failure {
            throw CLIError(
                "dead replay \(replayID) stopped: \(counted(sent.count, "message")) went back and left .dead, the rest stay in .dead: \(failure)"
            )
        }
        return (replayID, sent)
    }

    /// Deletes the selected messages; with `only`, just those with these message ids.
    static func purge(broker: AMQPConnection, selection: DeadSelection, only ids: Set<String?>? = nil) async throws
        -> [DeadLetter]
    {
        var purged: [DeadLetter] = []
        for queue in try selection.queues() {
            try await sweep(broker: broker, queue: queue, takes: true) { letters in
                let chosen = letters.filter { letter in
                    selection.matches(letter) && (ids?.contains(letter.delivery.properties.messageID) ?? true)
                }
                purged += chosen
                return chosen
            }
        }
        return purged
    }

    /// Counts by queue and reason, and a sample.
    /// With `warnIfHopeless`, notes the messages that failed before any handler ran.
    static func summary(_ letters: [DeadLetter], verb: String, warnIfHopeless: Bool = false) -> String {
        var counts: [String: Int] = [:]
        for letter in letters {
            counts["\(letter.queue) → \(letter.originalQueue)  (\(letter.reason))", default: 0] += 1
        }
        let lines = counts.sorted { $0.key < $1.key }.map { "  \($0.value)  \($0.key)" }
        let sample = letters.prefix(3).map { "  \($0.messageID)  \($0.type)  \($0.error.prefix(80))" }
        // These fail the same way again unless the consumer itself changed.
        let hopeless =
            warnIfHopeless ? letters.filter { EnvelopeDecodingError.reasonCodes.contains($0.reason) }.count : 0
        let warning =
            hopeless == 0
            ? []
            : [
                "note: \(counted(hopeless, "message")) failed before the handler ran (malformed, unknown or unaccepted); sent back, they come straight back unless the consumer changed"
            ]
        return
            (["\(counted(letters.count, "dead letter")) \(verb):"] + lines
            + (sample.isEmpty ? [] : ["sample:"] + sample) + warning).joined(separator: "\n")
    }
}

/// When a sweep stops waiting for the next message, shared with its watchdog.
private final class QuietClock: Sendable {
    /// nil while paused; `timedOut` once the deadline passed (the reader is then closed).
    private let state: Mutex<(deadline: ContinuousClock.Instant?, timedOut: Bool)>

    init(armedFor wait: Duration) { state = Mutex((ContinuousClock.now + wait, false)) }

    var timedOut: Bool { state.withLock { $0.timedOut } }

    /// Gives the queue two more seconds to deliver.
    func arm() { state.withLock { $0.deadline = ContinuousClock.now + .seconds(2) } }

    /// Stops the clock; false if it already ran out.
    func pause() -> Bool {
        state.withLock { state in
            guard !state.timedOut else { return false }
            state.deadline = nil
            return true
        }
    }

    /// Whether the deadline passed (checked by the watchdog).
    func expired() -> Bool {
        state.withLock { state in
            if let deadline = state.deadline, ContinuousClock.now > deadline { state.timedOut = true }
            return state.timedOut
        }
    }
}
