import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// `GET /v1/events` (listed in `GatewayAPI`): the signed-in user's events as Server-Sent
/// Events. Each frame's `id` is the event id; a client that reconnects with `Last-Event-ID`
/// first receives what it missed (within the replay window), then live events. Comment
/// lines every `heartbeat` keep proxies from closing an idle stream. Streams end at
/// shutdown; clients reconnect (`retry: 3000`).
///
/// A stream ends, with a last `event: end` frame naming why, when its access token runs
/// out (`token-expired`: refresh, then reconnect) or its account is suspended or deleted
/// (`account-closed`: at once on this instance, at the next heartbeat on others). A user
/// may hold `LiveEventHub.maxStreamsPerUser` streams per instance; one more is 429.
struct EventStreamRoute: Sendable {
    let hub: LiveEventHub
    let authenticator: Authenticator
    let runtime: KindredRuntime
    let heartbeat: Duration
    let now: @Sendable () -> Date

    static let lastEventID = HTTPField.Name.constant("Last-Event-ID")

    func stream(_ request: Request, context: KindredRequestContext) async throws -> Response {
        let (user, expiresAt) = try authenticator.signedIn(request, context: context)
        let pool = runtime.pool
        let watch = StreamWatch(
            expiresAt: expiresAt, now: now,
            isAccountClosed: {
                do {
                    let account = try await pool.withConnection { try AccountStore.find(userID: user, on: $0) }
                    // No account: it was deleted.
                    return account?.isBlocked ?? true
                } catch {
                    return false
                }
            })
        if await watch.isAccountClosed() { throw Problem.suspended }
        let (frames, output) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        // The hub (a suspension seen here) and the watch (seen at a heartbeat) may both find
        // the end: the client is told once.
        let told = Mutex(false)
        let end: @Sendable (StreamEnd) -> Void = { reason in
            let first = told.withLock { told in
                defer { told = true }
                return !told
            }
            if first { output.yield(ByteBuffer(string: reason.frame)) }
        }
        // Subscribe before reading what was missed, so nothing falls between the two.
        guard let live = hub.subscribe(user, ended: end) else {
            throw Problem(
                status: .tooManyRequests, type: "too-many-streams", title: "Too many live streams",
                detail: "at most \(hub.maxStreamsPerUser) at once; close one first", retryAfter: 5)
        }
        let missed: [LiveEvent]
        do {
            missed = try await LiveEventListener.missed(
                by: user, after: request.headers[Self.lastEventID], pool: runtime.pool)
        } catch {
            throw Problem.unavailable("the gateway database is unreachable")
        }
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
                        try? await Task.sleep(for: watch.nextLook(heartbeat: interval))
                        if let reason = await watch.endReason() {
                            end(reason)
                            return
                        }
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
