import Foundation

/// What the suite knows about one event type: who publishes it, which services consume it
/// from their own queue, and which `dataversion`s those consumers accept.
public struct EventDescriptor: Sendable {
    public enum Role: Sendable {
        /// Something that happened; routed through the exchange to every consumer's queue.
        case fact
        /// A request from the gateway; routed to the one service that answers it.
        case request
        /// An answer; sent straight to the requester's `reply_to` queue, never routed.
        case reply
    }

    public let type: EventType
    public let role: Role
    /// The service that publishes it (and in whose name `kindred publish` sends it).
    public let producer: ServiceName
    /// Every service that publishes it: the producer, and for an answer many give (a part
    /// of an account erased) the others.
    public let producers: Set<ServiceName>
    public let consumers: [ServiceName]
    /// Services every instance of which needs every copy (the gateway's live streams): they
    /// consume from a per-instance, auto-deleted queue `<EventType>.<service>.<instance>`.
    public let perInstanceConsumers: [ServiceName]
    public let acceptedVersions: Set<Int>
    /// The current `dataversion` of the Swift type.
    public let dataVersion: Int
    let makeExample: @Sendable () -> [UInt8]
    /// Checks that a JSON document is valid `data` for this type (throws the reason).
    public let validateData: @Sendable ([UInt8]) throws -> Void
    let inferSchema: @Sendable () throws -> DataSchema
    /// A new envelope from the producer around `data` (checked against the contract), and
    /// its encoding: what `kindred publish` sends.
    public let makeEnvelope:
        @Sendable (_ data: [UInt8], _ subject: String?, _ correlationID: String, _ time: Date) throws -> (
            header: EnvelopeHeader, body: [UInt8]
        )

    /// The JSON Schema of `data` at the current version, inferred from the Swift type.
    public func schemaSnapshot() throws -> SchemaSnapshot {
        SchemaSnapshot(type: type, dataVersion: dataVersion, schema: try inferSchema())
    }

    public init<E: Event & ExampleProviding>(
        _ event: E.Type, role: Role, producer: ServiceName, alsoProducedBy: Set<ServiceName> = [],
        consumers: [ServiceName] = [], perInstanceConsumers: [ServiceName] = [], acceptedVersions: Set<Int>? = nil
    ) {
        self.type = E.eventType
        self.role = role
        self.producer = producer
        self.producers = alsoProducedBy.union([producer])
        self.consumers = consumers
        self.perInstanceConsumers = perInstanceConsumers
        self.acceptedVersions = acceptedVersions ?? [E.dataVersion]
        self.dataVersion = E.dataVersion
        self.validateData = { bytes in _ = try KindredJSON.sharedDecoder.decode(E.self, from: Data(bytes)) }
        self.inferSchema = { try DataSchema.infer(E.self) }
        self.makeEnvelope = { bytes, subject, correlationID, time in
            let data = try KindredJSON.sharedDecoder.decode(E.self, from: Data(bytes))
            let envelope = Envelope(
                source: producer, time: time, subject: subject, data: data, correlationID: correlationID)
            return (envelope.header, try EnvelopeCodec().encode(envelope))
        }
        self.makeExample = {
            let envelope = Envelope(
                id: UUID(uuidString: "00000000-0000-4000-8000-000000000001") ?? UUID(), source: producer,
                time: Date(timeIntervalSince1970: 1_795_348_800), subject: nil, data: E.example,
                correlationID: "example")
            return (try? EnvelopeCodec().encode(envelope)) ?? []
        }
    }
}

/// The explicit list of every event type of the suite. Topology is declared from it, and
/// a consumer rejects (to `.dead`) any type or version it does not list.
public enum EventRegistry {
    public static let all: [EventDescriptor] = [
        EventDescriptor(UserRegistered.self, role: .fact, producer: .gateway, consumers: [.profile]),
        EventDescriptor(GuestRegistered.self, role: .fact, producer: .gateway, consumers: [.profile]),
        EventDescriptor(AccountLinked.self, role: .fact, producer: .gateway),
        EventDescriptor(UserSuspended.self, role: .fact, producer: .profile, consumers: [.gateway]),
        EventDescriptor(
            AccountDeletionRequested.self, role: .fact, producer: .gateway,
            consumers: Array(AccountDeletion.participants)),
        EventDescriptor(
            UserDataErased.self, role: .fact, producer: .profile, alsoProducedBy: AccountDeletion.participants,
            consumers: [.gateway]),
        EventDescriptor(ProfileCreated.self, role: .fact, producer: .profile),
        EventDescriptor(ProfileUpdated.self, role: .fact, producer: .profile, perInstanceConsumers: [.gateway]),
        EventDescriptor(ProfileRequested.self, role: .request, producer: .gateway, consumers: [.profile]),
        EventDescriptor(
            ProfileUpdateRequested.self, role: .request, producer: .gateway, consumers: [.profile]),
        EventDescriptor(ProfileFound.self, role: .reply, producer: .profile),
        EventDescriptor(ProfileViewRequested.self, role: .request, producer: .gateway, consumers: [.profile]),
        EventDescriptor(ProfileViewFound.self, role: .reply, producer: .profile),
        EventDescriptor(LocationUpdateRequested.self, role: .request, producer: .gateway, consumers: [.profile]),
        EventDescriptor(LocationChanged.self, role: .fact, producer: .profile),
        EventDescriptor(
            AttachmentAssessmentSubmitted.self, role: .request, producer: .gateway, consumers: [.profile]),
        EventDescriptor(AttachmentAssessed.self, role: .fact, producer: .profile),
        EventDescriptor(ReportFiled.self, role: .request, producer: .gateway, consumers: [.profile]),
        EventDescriptor(UserReported.self, role: .fact, producer: .profile),
        EventDescriptor(ReportsListRequested.self, role: .request, producer: .gateway, consumers: [.profile]),
        EventDescriptor(ReportsListed.self, role: .reply, producer: .profile),
        EventDescriptor(ReportDecisionRequested.self, role: .request, producer: .gateway, consumers: [.profile]),
        EventDescriptor(ReportDecided.self, role: .fact, producer: .profile),
        EventDescriptor(UserBanned.self, role: .fact, producer: .profile, consumers: [.gateway]),
        EventDescriptor(UserReinstated.self, role: .fact, producer: .profile, consumers: [.gateway]),
        EventDescriptor(UserBlocked.self, role: .fact, producer: .matching, consumers: [.profile]),
        EventDescriptor(UserUnblocked.self, role: .fact, producer: .matching, consumers: [.profile]),
        EventDescriptor(AccountRoleChanged.self, role: .fact, producer: .gateway, consumers: [.gateway]),
        EventDescriptor(PhotoUploadRequested.self, role: .request, producer: .gateway, consumers: [.media]),
        EventDescriptor(PhotoAccepted.self, role: .reply, producer: .media),
        EventDescriptor(PhotoUploaded.self, role: .fact, producer: .media, perInstanceConsumers: [.gateway]),
        EventDescriptor(
            PhotoApproved.self, role: .fact, producer: .media, consumers: [.profile], perInstanceConsumers: [.gateway]),
        EventDescriptor(
            PhotoRejected.self, role: .fact, producer: .media, consumers: [.profile], perInstanceConsumers: [.gateway]),
        EventDescriptor(PhotosListRequested.self, role: .request, producer: .gateway, consumers: [.media]),
        EventDescriptor(PhotosListed.self, role: .reply, producer: .media),
        EventDescriptor(PhotosReorderRequested.self, role: .request, producer: .gateway, consumers: [.media]),
        EventDescriptor(
            PhotosReordered.self, role: .fact, producer: .media, consumers: [.profile], perInstanceConsumers: [.gateway]
        ),
        EventDescriptor(PhotoRemovalRequested.self, role: .request, producer: .gateway, consumers: [.media]),
        EventDescriptor(
            PhotoRemoved.self, role: .fact, producer: .media, consumers: [.profile], perInstanceConsumers: [.gateway]),
        EventDescriptor(PhotoReviewListRequested.self, role: .request, producer: .gateway, consumers: [.media]),
        EventDescriptor(PhotoReviewListed.self, role: .reply, producer: .media),
        EventDescriptor(PhotoDecisionRequested.self, role: .request, producer: .gateway, consumers: [.media]),
        EventDescriptor(PhotoDecided.self, role: .reply, producer: .media),
        EventDescriptor(RequestFailed.self, role: .reply, producer: .profile, acceptedVersions: [1, 2]),
    ]

    private static let byType: [EventType: EventDescriptor] = Dictionary(
        all.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })

    public static func descriptor(for type: EventType) -> EventDescriptor? { byType[type] }

    /// The event types a service consumes from its own durable queues.
    public static func consumed(by service: ServiceName) -> [EventDescriptor] {
        all.filter { $0.consumers.contains(service) }
    }

    /// The durable queue a service consumes an event type from: `<EventType>.<service>`.
    public static func queueName(for type: EventType, consumer: ServiceName) -> String {
        "\(type.rawValue).\(consumer.rawValue)"
    }

    /// The event types every instance of a service receives a copy of.
    public static func streamed(to service: ServiceName) -> [EventDescriptor] {
        all.filter { $0.perInstanceConsumers.contains(service) }
    }

    /// The per-instance queue: `<EventType>.<service>.<instance>`.
    public static func instanceQueueName(for type: EventType, consumer: ServiceName, instance: String) -> String {
        "\(type.rawValue).\(consumer.rawValue).\(instance)"
    }

    /// The queue a message that cannot be processed ends in.
    public static func deadQueueName(for queue: String) -> String { "\(queue).dead" }
}

/// Broker users, by the suite's convention: `kindred_<service>` for each service and one
/// operator (`kindred_admin`, the CLI's) for what people publish on purpose.
public enum BrokerUser {
    public static func of(_ service: ServiceName) -> String { "kindred_\(service.rawValue)" }
    public static let defaultOperator = "kindred_admin"
}

extension EventRegistry {
    /// The broker users whose copies of `type` a consumer in `consumer` accepts: the
    /// producers the registry names; the consumer itself (its retries come back through its
    /// own retry queues as republished copies); and the operator (`kindred publish`,
    /// `replay`, `dead replay`). Anyone else is forging the source.
    public static func trustedPublishers(of type: EventType, consumer: ServiceName, operator: String) -> Set<String> {
        var users: Set<String> = [BrokerUser.of(consumer), `operator`]
        for producer in descriptor(for: type)?.producers ?? [] { users.insert(BrokerUser.of(producer)) }
        return users
    }

    /// The broker users that may answer `service`'s requests: the consumers of the request
    /// types it produces.
    public static func trustedRepliers(to service: ServiceName) -> Set<String> {
        Set(all.filter { $0.role == .request && $0.producer == service }.flatMap(\.consumers).map(BrokerUser.of))
    }
}
