import Contracts
import Foundation
import Messaging
import Persistence

extension KindredRuntime {
    /// A consumer of this service's queue for `E` (`<EventType>.<service>`) that decodes
    /// each envelope before calling `handler`; undecodable data goes to `.dead`.
    public func consumer<E: Event>(
        of _: E.Type, prefetch: UInt16 = 100, concurrency: Int = 32,
        handler: @escaping @Sendable (Envelope<E>, Delivery) async throws -> Void
    ) -> EventConsumer {
        let queue = EventRegistry.queueName(for: E.eventType, consumer: service)
        let codec = EnvelopeCodec()
        return EventConsumer(
            connection: consumerConnection, publishing: publisherConnection, queue: queue,
            acceptedTypes: [E.eventType], prefetch: prefetch, concurrency: concurrency,
            retryPolicy: configuration.retryPolicy, limits: configuration.consumerLimits,
            trustedPublishers: EventRegistry.trustedPublishers(
                of: E.eventType, consumer: service, operator: configuration.operatorBrokerUser),
            redeliveries: RedeliveryCounter(pool: pool), isTransient: Self.isTransient, logger: logger
        ) { header, delivery in
            let envelope = try codec.decode(E.self, from: delivery.body, header: header)
            try await handler(envelope, delivery)
        }
    }

    /// Errors that say a dependency is away rather than that the message is bad: the
    /// handler is retried in place until it is back.
    @Sendable static func isTransient(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.kind == .connection
    }

    /// Answers a request on its `reply_to` queue, with its result or a typed failure.
    public func respond<Request: RequestEvent>(
        to request: Envelope<Request>, delivery: Delivery, with outcome: Result<Request.Reply, RequestFailed>,
        now: Date
    ) async throws {
        guard let replyQueue = delivery.properties.replyTo, !replyQueue.isEmpty else {
            throw PermanentFailure(reason: "no-reply-to", description: "a request without reply_to cannot be answered")
        }
        switch outcome {
        case .success(let reply):
            try await publisher.reply(
                Envelope(causedBy: request, source: service, time: now, subject: request.subject, data: reply),
                to: replyQueue)
        case .failure(let failure):
            try await publisher.reply(
                Envelope(causedBy: request, source: service, time: now, subject: request.subject, data: failure),
                to: replyQueue)
        }
    }
}
