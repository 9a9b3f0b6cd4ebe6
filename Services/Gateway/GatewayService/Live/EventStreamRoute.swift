import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import ServiceRuntime

/// `GET /v1/events`: the signed-in user's events as Server-Sent Events. Each frame's `id`
/// is the event id; a client that reconnects with `Last-Event-ID` first receives what it
/// missed (within the replay window), then live events. Comment lines every
/// `heartbeat` keep proxies from closing an idle stream. Streams end at shutdown; clients
/// reconnect (`retry: 3000`).
struct EventStreamRoute: Sendable {
    let hub: LiveEventHub
    let authenticator: Authenticator
    let runtime: KindredRuntime
    let heartbeat: Duration

    static let lastEventID = HTTPField.Name.constant("Last-Event-ID")

    func add(to router: Router<KindredRequestContext>) {
        router.get("/v1/events") { request, context in try await stream(request, context: context) }
    }

    func stream(_ request: Request, context: KindredRequestContext) async throws -> Response {
        let user = try authenticator.userID(of: request, context: context)
        // Subscribe before reading what was missed, so nothing falls between the two.
        let live = hub.subscribe(user)
        let missed: [LiveEvent]
        do {
            missed = try await LiveEventListener.missed(
                by: user, after: request.headers[Self.lastEventID], pool: runtime.pool)
        } catch {
            throw Problem.unavailable("the gateway database is unreachable")
        }
        let (frames, output) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let interval = heartbeat
        let producer = Task {
            output.yield(ByteBuffer(string: "retry: 3000\n\n"))
            for event in missed { output.yield(ByteBuffer(string: event.frame)) }
            let sent = Set(missed.map(\.id))
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in live where !sent.contains(event.id) {
                        output.yield(ByteBuffer(string: event.frame))
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        output.yield(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
                await group.next()
                group.cancelAll()
            }
            output.finish()
        }
        output.onTermination = { _ in producer.cancel() }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .connection: "keep-alive"],
            body: ResponseBody(asyncSequence: frames.cancelOnGracefulShutdown()))
    }
}
