import Contracts
import Foundation
import Messaging
import Persistence

extension KindredRuntime {
    /// A consumer of this service's queue for `E` (`<EventType>.<service>`) that decodes
    /// each envelope before calling `handler` with it and its delivery's context;
    /// undecodable data goes to `.dead`. Handlers' consumers are built with it
    /// (`MessageHandler.consumer(on:)`).
    func consumer<E: Event>(
        of _: E.Type, prefetch: UInt16 = 100, concurrency: Int = 32,
        handler: @escaping @Sendable (Envelope<E>, MessageContext) async throws -> Void
    ) -> EventConsumer {
        let queue = EventRegistry.queueName(for: E.eventType, consumer: service)
        let codec = EnvelopeCodec()
        return EventConsumer(
            connection: consumerConnection, publishing: publisherConnection, queue: queue,
            acceptedTypes: [E.eventType], prefetch: prefetch, concurrency: concurrency,
            retryPolicy: configuration.retryPolicy, limits: configuration.consumerLimits,
            trustedPublishers: EventRegistry.trustedPublishers(
                of: E.eventType, consumer: service, operator: configuration.operatorBrokerUser),
            redeliveries: RedeliveryCounter(pool: pool), isTransient: Self.isTransient, logger: logger,
            decode: { bytes throws(EnvelopeDecodingError) in
                // One pass over the bytes: the typed envelope, and its header from it.
                let envelope = try codec.decode(E.self, from: bytes)
                return DecodedMessage(header: envelope.header, value: envelope)
            },
            handler: { decoded, delivery, headers in
                guard let envelope = decoded.value as? Envelope<E> else {
                    throw PermanentFailure(reason: "unexpected-type", description: "not an envelope of \(E.eventType)")
                }
                try await handler(envelope, MessageContext(delivery: delivery, headers: headers))
            })
    }

    /// Errors that say a dependency is away rather than that the message is bad: the
    /// handler is retried in place until it is back.
    @Sendable static func isTransient(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.kind == .connection
    }

    /// Sends the answer to a request, encoded already (a handler's, or the one kept for a
    /// redelivered request), to the request's `reply_to`: the one way answers leave a service.
    package func sendReply(_ body: [UInt8], header: EnvelopeHeader, to replyTo: String, deadline: Date?) {
        // The requester stops waiting at its deadline: an answer held back longer (the broker
        // blocks publishing) is dropped, not sent late.
        let limit = deadline.map { ContinuousClock.now + .milliseconds(Int64($0.timeIntervalSinceNow * 1000)) }
        replies.reply(encoded: body, header: header, to: replyTo, deadline: limit)
    }
}
