// The floor of the request path: a request and its answer through RabbitMQ with nothing
// else on the way. The same AMQP operations a gateway request costs (publish `mandatory`
// without a confirm, direct reply-to, a consumer with manual acknowledgements, the answer
// sent through the default exchange, then the ack), but no HTTP, no envelope decoding and
// no database: the responder sends the request's own bytes back. What the broker spends
// per round trip here it spends on every `GET /v1/profile/me` too, whatever the services do.
import Contracts
import Foundation
import Messaging
import Synchronization

/// CPU time of processes from /proc/PID/stat (utime + stime + cutime + cstime), in µs.
struct ProcessCPU {
    let pids: [String]
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The sum over `pids` now; a process that is gone counts 0.
    func microseconds() -> Double {
        var ticks = 0
        for pid in pids {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after the command name: state is field 3, utime field 14, so field N
            // is at N - 3.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 14 else { continue }
            for index in 11...14 { ticks += Int(fields[index]) ?? 0 }
        }
        return Double(ticks) * 1e6 / ticksPerSecond
    }
}

struct EchoResult {
    var roundTrips: Int
    var seconds: Double
    var latenciesMilliseconds: [Double]
    var brokerMicroseconds: Double
    var benchMicroseconds: Double

    var rate: Double { Double(roundTrips) / seconds }
    var brokerPerRoundTrip: Double { roundTrips > 0 ? brokerMicroseconds / Double(roundTrips) : 0 }
    var benchPerRoundTrip: Double { roundTrips > 0 ? benchMicroseconds / Double(roundTrips) : 0 }
}

/// Answers every request on `queue` with its own body, as a service's responder does:
/// send the answer, then acknowledge.
func startEchoResponder(on connection: AMQPConnection, queue: String) async throws -> Task<Void, any Error> {
    let deliveries = try await connection.consume(queue: queue, prefetch: 64)
    return Task {
        for try await delivery in deliveries {
            if let replyTo = delivery.properties.replyTo {
                var properties = delivery.properties
                properties.correlationID = delivery.properties.messageID
                properties.replyTo = nil
                properties.expirationMilliseconds = nil
                properties.persistent = false
                connection.send(
                    OutgoingMessage(
                        exchange: "", routingKey: replyTo, body: delivery.body, properties: properties,
                        mandatory: true))
            }
            connection.acknowledge(delivery)
        }
    }
}

/// Runs `inFlight` requesters for `seconds`, each sending the next request when the last
/// one's answer came, and measures the round trips, their latency and the CPU spent.
func measureEcho(
    connection: AMQPConnection, routingKey: String, body: [UInt8], header: EnvelopeHeader, inFlight: Int,
    seconds: Double, broker: ProcessCPU
) async throws -> EchoResult {
    let benchCPU = ProcessCPU(pids: ["self"])
    let brokerBefore = broker.microseconds()
    let benchBefore = benchCPU.microseconds()
    let started = ContinuousClock.now
    let end = started + .milliseconds(Int(seconds * 1000))
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for _ in 0..<inFlight {
            group.addTask {
                var measured: [Double] = []
                while ContinuousClock.now < end {
                    var message = OutgoingMessage.event(
                        body: body, header: header, publisher: .gateway, mandatory: true,
                        expirationMilliseconds: 5000)
                    message.properties.messageID = UUID.random().uuidString
                    message.properties.persistent = false
                    message.routingKey = routingKey
                    let sent = ContinuousClock.now
                    _ = try await connection.request(message, deadline: sent + .seconds(5))
                    measured.append(milliseconds(ContinuousClock.now - sent))
                }
                return measured
            }
        }
        var all: [Double] = []
        for try await measured in group { all += measured }
        return all
    }
    let elapsed = milliseconds(ContinuousClock.now - started) / 1000
    return EchoResult(
        roundTrips: latencies.count, seconds: elapsed, latenciesMilliseconds: latencies.sorted(),
        brokerMicroseconds: broker.microseconds() - brokerBefore,
        benchMicroseconds: benchCPU.microseconds() - benchBefore)
}
