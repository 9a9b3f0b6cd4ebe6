import Foundation

/// What each service's broker user may do, derived from the registry, so provisioning
/// cannot drift from the contracts. Written to `compose/broker-permissions.tsv` (`kindred
/// contracts permissions --write`), which both provisioning scripts read
/// (`scripts/lib/stack.sh` for the local stack, `compose/rabbitmq-init.sh` for
/// containers); a test fails when the file and the registry disagree.
///
/// Resource permissions (RabbitMQ regexes over exchange and queue names): a service
/// configures and reads only the exchange `kindred` and its own queues
/// (`<Event>.<service>[.<suffix>]`: retry, dead, per-instance and reply queues), and writes
/// to those, `kindred` and the default exchange (replies, retries and dead letters go
/// straight to a queue). Topic permissions on `kindred` narrow the routing keys: a service
/// publishes only the types it produces and binds only the types it consumes. The default
/// exchange cannot be narrowed by routing key, so consumers also check each message's
/// `user_id` (`EventRegistry.trustedPublishers`).
public struct BrokerPermissions: Sendable, Equatable {
    public var service: ServiceName
    public var configure: String
    public var write: String
    public var read: String
    /// Routing keys it may publish to `kindred`.
    public var topicWrite: String
    /// Routing keys it may bind its queues to on `kindred`.
    public var topicRead: String

    public static var all: [BrokerPermissions] { ServiceName.allCases.map(of) }

    public static func of(_ service: ServiceName) -> BrokerPermissions {
        let own = "[A-Za-z]+\\.\(service.rawValue)(\\..+)?"
        let produced = EventRegistry.all.filter { $0.producers.contains(service) && $0.role != .reply }.map(\.type)
        let bound = EventRegistry.consumed(by: service).map(\.type) + EventRegistry.streamed(to: service).map(\.type)
        return BrokerPermissions(
            service: service, configure: "^(kindred|\(own))$", write: "^(kindred|amq\\.default|\(own))$",
            read: "^(kindred|\(own))$", topicWrite: alternatives(produced), topicRead: alternatives(bound))
    }

    /// `^(A|B)$` of event types (letters only, so nothing needs escaping), or `^$`: none.
    static func alternatives(_ types: [EventType]) -> String {
        let names = Set(types.map(\.rawValue)).sorted()
        return names.isEmpty ? "^$" : "^(\(names.joined(separator: "|")))$"
    }

    public static let fileHeader = """
        # Generated from Shared/Contracts (EventRegistry) by `kindred contracts permissions --write`;
        # read by scripts/lib/stack.sh and compose/rabbitmq-init.sh. Do not edit by hand.
        # Columns (tab-separated): service, configure, write, read (RabbitMQ resource regexes),
        # topic_write, topic_read (routing-key regexes on the exchange kindred).
        """

    /// The file's whole text.
    public static func tsv() -> String {
        fileHeader + "\n"
            + all.map { row in
                [row.service.rawValue, row.configure, row.write, row.read, row.topicWrite, row.topicRead]
                    .joined(separator: "\t")
            }.joined(separator: "\n") + "\n"
    }
}
