import CRabbitMQ
import Contracts
import Foundation
import Glibc
import Logging
import Synchronization

/// The thread that owns one rabbitmq-c connection: everything in here runs on that thread
/// only. See `AMQPConnection` for the contract.
final class AMQPOwner {
    private let endpoint: AMQPEndpoint
    private let mailbox: SharedMailbox
    private let logger: Logger
    private let channel: amqp_channel_t = 1
    /// A second channel for passive declarations, which the broker closes when the queue
    /// does not exist; keeping them apart spares the main channel and its consumers.
    private let inspectionChannel: amqp_channel_t = 2
    private var inspectionChannelOpen = false
    /// The channel of requests and replies: no publisher confirms (a request's reply, or
    /// its deadline, says what a confirm would), and the direct reply-to consumer.
    private let requestChannel: amqp_channel_t = 3
    private let replyConsumerTag = "kindred-direct-reply-to"
    /// Whether this connection consumes its direct replies yet (started by the first
    /// request after each connect).
    private var consumingReplies = false
    private var pendingRequests: [String: AMQPConnection.RequestCommand] = [:]
    private var heldRequests: [AMQPConnection.RequestCommand] = []
    private var heldSends: [(message: OutgoingMessage, deadline: ContinuousClock.Instant)] = []
    /// Delivery tags on `channel` handed to consumers and not yet settled, ascending: an
    /// acknowledgement of the oldest ones goes out as one `multiple` ack.
    private var unsettled: [UInt64] = []
    /// Acknowledgements asked for in this pass of the loop, sent together at its end.
    private var acksThisPass: Set<UInt64> = []

    private var connection: amqp_connection_state_t?
    private var generation = 0

    /// What to restore after a reconnect.
    private var topologies: [Topology] = []
    private var consumers: [String: AMQPConnection.ConsumerRegistration] = [:]
    /// Asked for while disconnected; answered once applied.
    private var waitingDeclarations: [(Topology, CheckedContinuation<Void, any Error>)] = []
    private var waitingConsumers: [(AMQPConnection.ConsumerRegistration, CheckedContinuation<Void, any Error>)] = []

    private struct PendingPublish {
        let complete: AMQPConnection.PublishCompletion
        let deadline: ContinuousClock.Instant
        let messageID: String?
        let exchange: String
        let routingKey: String
    }
    private var pendingConfirms: [UInt64: PendingPublish] = [:]
    private var nextPublishTag: UInt64 = 1
    private var returnedMessageIDs: Set<String> = []
    /// Nothing waiting here (a confirm, a reply, a held publish, request or answer) is due
    /// before this: the one deadline of them all, which bounds the poll. It may be earlier
    /// than the real earliest: then one scan finds nothing due and moves it on.
    private var earliestDeadline: ContinuousClock.Instant?
    /// Set while the broker blocks this connection's publishing (resource alarm): it then
    /// stops reading the socket, so a publish written now could block this thread — and
    /// with it heartbeats, acknowledgements and every timeout. Publishes wait here instead.
    private var publishingBlocked = false
    private var heldPublishes:
        [(message: OutgoingMessage, deadline: ContinuousClock.Instant, complete: AMQPConnection.PublishCompletion)] = []

    init(endpoint: AMQPEndpoint, mailbox: SharedMailbox, logger: Logger) {
        self.endpoint = endpoint
        self.mailbox = mailbox
        self.logger = logger
    }

    private var isClosed: Bool { mailbox.state.withLock { $0.isClosed } }

    // MARK: - Life cycle

    func run() {
        var attempt = 0
        while !isClosed {
            do {
                try connect()
                generation += 1
                try restore()
                attempt = 0
                markConnected()
                logger.info("connected to the broker", metadata: ["amqp.endpoint": "\(endpoint)"])
                try serve()
            } catch {
                let reason = (error as? AMQPError)?.description ?? "\(error)"
                markDisconnected(reason)
                if case AMQPError.refused(let why) = error {
                    failInFlight(AMQPError.refused(why))
                } else {
                    failInFlight(AMQPError.connectionLost(reason))
                }
                if !isClosed {
                    logger.warning("broker connection down", metadata: ["error": "\(reason)"])
                }
            }
            teardown()
            guard !isClosed else { break }
            attempt += 1
            waitBeforeReconnecting(attempt: attempt)
        }
        shutDown()
    }

    private func connect() throws {
        guard let state = amqp_new_connection() else { throw AMQPError.notConnected("out of memory") }
        connection = state
        let socket = try makeSocket(on: state)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        let opened = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &timeout)
        guard opened == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.notConnected(
                "\(endpoint.host):\(endpoint.port): \(String(cString: amqp_error_string2(opened)))")
        }
        var rpcTimeout = timeval(tv_sec: 10, tv_usec: 0)
        amqp_set_rpc_timeout(state, &rpcTimeout)
        try check(
            kindred_amqp_login_plain(
                state, endpoint.virtualHost, 0, 131_072, Int32(endpoint.heartbeatSeconds),
                endpoint.user, endpoint.password), doing: "log in")
        amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), doing: "open a channel")
        amqp_confirm_select(state, channel)
        try check(amqp_get_rpc_reply(state), doing: "enable publisher confirms")
        amqp_channel_open(state, requestChannel)
        try check(amqp_get_rpc_reply(state), doing: "open the request channel")
        nextPublishTag = 1
        inspectionChannelOpen = false
        consumingReplies = false
        // Now, not at the first request: an RPC then could wait on a broker that stopped
        // reading this connection (it blocks publishers), holding this thread for seconds.
        try startConsumingReplies()
        unsettled = []
        acksThisPass = []
    }

    /// A TCP socket, or a TLS one for `amqps://` with the endpoint's certificate checks.
    private func makeSocket(on state: amqp_connection_state_t) throws -> OpaquePointer {
        guard let tls = endpoint.tls else {
            guard let socket = amqp_tcp_socket_new(state) else {
                throw AMQPError.notConnected("cannot create a socket")
            }
            return socket
        }
        guard let socket = amqp_ssl_socket_new(state) else {
            throw AMQPError.notConnected("cannot create a TLS socket")
        }
        if let file = tls.caCertificateFile {
            guard amqp_ssl_socket_set_cacert(socket, file) == AMQP_STATUS_OK.rawValue else {
                throw AMQPError.notConnected("cannot read the CA bundle \(file)")
            }
        }
        if let certificate = tls.certificateFile, let key = tls.keyFile {
            guard amqp_ssl_socket_set_key(socket, certificate, key) == AMQP_STATUS_OK.rawValue else {
                throw AMQPError.notConnected("cannot read the client certificate \(certificate) or its key")
            }
        }
        amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, tls.verifyPeer ? 1 : 0)
        return socket
    }

    /// Declares every topology again and re-registers every consumer, then answers the
    /// declarations and consumers that were asked for while the connection was down.
    private func restore() throws {
        for topology in topologies { try declare(topology) }
        for registration in consumers.values { try startConsuming(registration) }
        while !waitingDeclarations.isEmpty {
            let (topology, continuation) = waitingDeclarations.removeFirst()
            do {
                try declare(topology)
                topologies.append(topology)
                continuation.resume()
            } catch {
                continuation.resume(throwing: error)
                throw error
            }
        }
        while !waitingConsumers.isEmpty {
            let (registration, continuation) = waitingConsumers.removeFirst()
            do {
                try startConsuming(registration)
                consumers[registration.consumerTag] = registration
                continuation.resume()
            } catch {
                continuation.resume(throwing: error)
                throw error
            }
        }
    }

    private func teardown() {
        guard let state = connection else { return }
        if isClosed {
            // A deliberate close says goodbye so the broker requeues nothing by surprise.
            amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS)
            amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        }
        amqp_destroy_connection(state)
        connection = nil
    }

    private func shutDown() {
        failInFlight(AMQPError.closed)
        for (_, continuation) in waitingDeclarations { continuation.resume(throwing: AMQPError.closed) }
        for (registration, continuation) in waitingConsumers {
            registration.continuation.finish()
            continuation.resume(throwing: AMQPError.closed)
        }
        waitingDeclarations = []
        waitingConsumers = []
        for registration in consumers.values { registration.continuation.finish() }
        consumers = [:]
        let (commands, waiters) = mailbox.state.withLock { state in
            let taken = (state.commands, state.readinessWaiters)
            state.commands = []
            state.readinessWaiters = []
            state.isConnected = false
            state.lastError = "closed"
            return taken
        }
        for command in commands { failWithoutConnection(command, error: AMQPError.closed) }
        for waiter in waiters { waiter.resume() }
    }

    private func markConnected() {
        let waiters = mailbox.state.withLock { state in
            state.isConnected = true
            state.connectionsMade += 1
            state.lastError = ""
            let waiters = state.readinessWaiters
            state.readinessWaiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func markDisconnected(_ reason: String) {
        mailbox.state.withLock { state in
            state.isConnected = false
            state.lastError = reason
        }
    }

    private func failInFlight(_ error: AMQPError) {
        for pending in pendingConfirms.values { pending.complete(.failure(error)) }
        pendingConfirms = [:]
        for held in heldPublishes { held.complete(.failure(error)) }
        heldPublishes = []
        for request in pendingRequests.values { request.complete(.failure(error)) }
        pendingRequests = [:]
        for request in heldRequests { request.complete(.failure(error)) }
        heldRequests = []
        heldSends = []
        publishingBlocked = false
        earliestDeadline = nil
        returnedMessageIDs = []
    }

    /// Sleeps with exponential backoff and jitter, answering commands meanwhile.
    private func waitBeforeReconnecting(attempt: Int) {
        let ceiling = min(30.0, 0.25 * pow(2.0, Double(min(attempt, 8))))
        let delay = Double.random(in: (ceiling / 2)...ceiling)
        let deadline = Date().addingTimeInterval(delay)
        // Inspections wait for the connection: kept here, not in the mailbox, whose commands
        // would end every sleep at once and spin this loop.
        var inspections: [AMQPConnection.Command] = []
        while !isClosed, Date() < deadline {
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            var descriptor = [pollfd(fd: mailbox.wakeDescriptor, events: Int16(POLLIN), revents: 0)]
            sleep(on: &descriptor, milliseconds: remaining)
            for command in takeCommands() {
                if case .inspect = command {
                    inspections.append(command)
                } else {
                    failWithoutConnection(
                        command, error: AMQPError.notConnected(mailbox.state.withLock { $0.lastError }))
                }
            }
        }
        mailbox.state.withLock { $0.commands.insert(contentsOf: inspections, at: 0) }
    }

    // MARK: - Serving

    private func serve() throws {
        guard let state = connection else { return }
        let socket = amqp_get_sockfd(state)
        // Wake at least four times per heartbeat interval so heartbeats are never missed.
        let pollMilliseconds = Int32(max(250, min(1000, endpoint.heartbeatSeconds * 250)))
        while !isClosed {
            expireDue()
            let commands = takeCommands()
            for (index, command) in commands.enumerated() {
                do {
                    try execute(command)
                } catch {
                    // The connection is gone: the commands taken with this one must be answered
                    // too (failed, or kept for after the reconnect), or their callers wait forever.
                    let reason = AMQPError.connectionLost((error as? AMQPError)?.description ?? "\(error)")
                    for rest in commands[(index + 1)...] { failWithoutConnection(rest, error: reason) }
                    throw error
                }
            }
            try flushAcknowledgements()
            var framesRead = 0
            while framesRead < 256, amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 {
                guard try readFrame() else { break }
                framesRead += 1
            }
            if framesRead > 0 { continue }
            var descriptors = [
                pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: mailbox.wakeDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let slept = sleep(on: &descriptors, milliseconds: pollTimeout(ceiling: pollMilliseconds))
            // Commands are waiting: look at the socket without sleeping, so that a steady stream
            // of commands never starves the frames coming in.
            if !slept { _ = poll(&descriptors, 1, 0) }
            // Also on a timeout: the library sends a due heartbeat and notices a silent peer.
            if descriptors[0].revents != 0 || (slept && descriptors[1].revents == 0) {
                while try readFrame() {}
            }
        }
        // A deliberate close: acknowledgements and requeues asked for before it still go out
        // (the channel close that follows is processed after them), so a caller that acked
        // and then closed does not get those messages back.
        let commands = takeCommands()
        for (index, command) in commands.enumerated() {
            switch command {
            case .acknowledge, .reject:
                do {
                    try execute(command)
                } catch {
                    for rest in commands[(index + 1)...] { failWithoutConnection(rest, error: .closed) }
                    throw error
                }
            default: failWithoutConnection(command, error: .closed)
            }
        }
        try flushAcknowledgements()
    }

    /// Sleeps in poll(2) until a descriptor is ready or `milliseconds` pass, unless a command
    /// arrived meanwhile (then returns false at once). While it sleeps, callers that add a
    /// command write the eventfd; while it is awake they need not.
    @discardableResult
    private func sleep(on descriptors: inout [pollfd], milliseconds: Int32) -> Bool {
        let sleeping = mailbox.state.withLock { state in
            guard state.commands.isEmpty, !state.isClosed else { return false }
            state.ownerSleeping = true
            return true
        }
        guard sleeping else { return false }
        _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        mailbox.state.withLock { state in
            state.ownerSleeping = false
            state.wakePending = false
        }
        if descriptors.contains(where: { $0.fd == mailbox.wakeDescriptor && $0.revents != 0 }) {
            mailbox.drainWakeups()
        }
        return true
    }

    /// How long poll(2) may sleep: at most `ceiling`, and never past the next deadline of a
    /// confirm or a request, which is then answered on time.
    private func pollTimeout(ceiling: Int32) -> Int32 {
        guard let next = earliestDeadline else { return ceiling }
        let remaining = ContinuousClock.now.duration(to: next)
        guard remaining > .zero else { return 0 }
        // Rounded up, so a wake-up never comes a hair early and spins.
        let milliseconds = remaining.milliseconds + 1
        return Int32(min(Int64(ceiling), milliseconds))
    }

    private func takeCommands() -> [AMQPConnection.Command] {
        mailbox.state.withLock { state in
            let commands = state.commands
            state.commands = []
            return commands
        }
    }

    private func execute(_ command: AMQPConnection.Command) throws {
        guard let state = connection else {
            failWithoutConnection(command, error: AMQPError.notConnected("connecting"))
            return
        }
        switch command {
        case .declare, .consume, .cancel, .inspect:
            // An RPC, which the broker may answer by closing the channel: the acknowledgements
            // asked for before it go out first, or a reconnect would redeliver those messages.
            try flushAcknowledgements()
        default:
            break
        }
        switch command {
        case .publish(let message, let deadline, let complete) where publishingBlocked:
            heldPublishes.append((message, deadline, complete))
            wakeBy(deadline)
        case .publish(let message, let deadline, let complete):
            let tag = nextPublishTag
            let status = publish(message, on: state)
            guard status == AMQP_STATUS_OK.rawValue else {
                let error = AMQPError.connectionLost(String(cString: amqp_error_string2(status)))
                complete(.failure(error))
                throw error
            }
            nextPublishTag += 1
            wakeBy(deadline)
            pendingConfirms[tag] = PendingPublish(
                complete: complete, deadline: deadline, messageID: message.properties.messageID,
                exchange: message.exchange, routingKey: message.routingKey)
        case .acknowledge(let tag, let multiple, let deliveryGeneration):
            guard deliveryGeneration == generation else { return }
            if multiple {
                try flushAcknowledgements()
                try checkStatus(amqp_basic_ack(state, channel, tag, 1), doing: "acknowledge")
                unsettled.removeAll { $0 <= tag }
            } else {
                acksThisPass.insert(tag)
            }
        case .reject(let tag, let requeue, let deliveryGeneration):
            guard deliveryGeneration == generation else { return }
            try checkStatus(amqp_basic_nack(state, channel, tag, 0, requeue ? 1 : 0), doing: "reject")
            removeUnsettled(tag)
        case .request(let request) where publishingBlocked:
            heldRequests.append(request)
            wakeBy(request.deadline)
        case .request(let request) where pendingRequests[request.id] != nil:
            request.complete(.failure(.refused("a request with message id \(request.id) is waiting already")))
        case .request(let request):
            do {
                try startConsumingReplies()
            } catch {
                request.complete(.failure(error as? AMQPError ?? .connectionLost("\(error)")))
                throw error
            }
            let status = publish(request.message, on: state, channel: requestChannel)
            guard status == AMQP_STATUS_OK.rawValue else {
                let error = AMQPError.connectionLost(String(cString: amqp_error_string2(status)))
                request.complete(.failure(error))
                throw error
            }
            pendingRequests[request.id] = request
            wakeBy(request.deadline)
        case .abandonRequest(let id):
            pendingRequests.removeValue(forKey: id)?.complete(.failure(.closed))
            if let index = heldRequests.firstIndex(where: { $0.id == id }) {
                heldRequests.remove(at: index).complete(.failure(.closed))
            }
        case .send(let message, let deadline) where publishingBlocked:
            heldSends.append((message, deadline))
            wakeBy(deadline)
        case .send(let message, _):
            let status = publish(message, on: state, channel: requestChannel)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError.connectionLost(String(cString: amqp_error_string2(status)))
            }
        case .declare(let topology, let continuation):
            do {
                try declare(topology)
                if !topologies.contains(topology) { topologies.append(topology) }
                continuation.resume()
            } catch {
                // A refused declaration closes the channel: answer, then reconnect.
                continuation.resume(throwing: error)
                throw error
            }
        case .consume(let registration, let continuation):
            do {
                try startConsuming(registration)
                consumers[registration.consumerTag] = registration
                continuation.resume()
            } catch {
                continuation.resume(throwing: error)
                throw error
            }
        case .inspect(let queue, let continuation):
            do {
                continuation.resume(returning: try inspect(queue, on: state))
            } catch {
                continuation.resume(throwing: error)
                if case AMQPError.connectionLost = error { throw error }
            }
        case .cancel(let consumerTag):
            guard consumers.removeValue(forKey: consumerTag) != nil else { return }
            let arena = CArena()
            amqp_basic_cancel(state, channel, arena.bytes(consumerTag))
            try check(amqp_get_rpc_reply(state), doing: "cancel consumer \(consumerTag)")
        }
    }

    private func failWithoutConnection(_ command: AMQPConnection.Command, error: AMQPError) {
        switch command {
        case .publish(_, _, let complete): complete(.failure(error))
        case .request(let request): request.complete(.failure(error))
        case .abandonRequest, .send: break  // Failed with the connection, or lost with it.
        case .acknowledge, .reject: break  // The broker redelivers unacknowledged messages.
        case .declare(let topology, let continuation):
            if case .closed = error {
                continuation.resume(throwing: error)
            } else {
                waitingDeclarations.append((topology, continuation))
            }
        case .consume(let registration, let continuation):
            if case .closed = error {
                registration.continuation.finish()
                continuation.resume(throwing: error)
            } else {
                waitingConsumers.append((registration, continuation))
            }
        case .cancel(let consumerTag):
            consumers.removeValue(forKey: consumerTag)
        case .inspect(let queue, let continuation):
            if case .closed = error {
                continuation.resume(throwing: error)
            } else {
                // Asked again once connected.
                mailbox.state.withLock { $0.commands.append(.inspect(queue: queue, continuation)) }
            }
        }
    }

    private func inspect(_ queue: String, on state: amqp_connection_state_t) throws -> QueueStatus? {
        if !inspectionChannelOpen {
            amqp_channel_open(state, inspectionChannel)
            try check(amqp_get_rpc_reply(state), doing: "open the inspection channel")
            inspectionChannelOpen = true
        }
        let arena = CArena()
        let answer = amqp_queue_declare(state, inspectionChannel, arena.bytes(queue), 1, 0, 0, 0, amqp_empty_table)
        let reply = amqp_get_rpc_reply(state)
        if reply.reply_type == AMQP_RESPONSE_NORMAL, let answer {
            return QueueStatus(
                messages: Int(answer.pointee.message_count), consumers: Int(answer.pointee.consumer_count))
        }
        let code = kindred_amqp_channel_close_code(reply)
        guard code != 0 else {
            try check(reply, doing: "inspect queue \(queue)")
            return nil
        }
        inspectionChannelOpen = false
        try checkStatus(kindred_amqp_channel_close_ok(state, inspectionChannel), doing: "close the inspection channel")
        if code == 404 { return nil }
        try check(reply, doing: "inspect queue \(queue)")
        return nil
    }

    private func publish(
        _ message: OutgoingMessage, on state: amqp_connection_state_t, channel: amqp_channel_t? = nil
    ) -> Int32 {
        let arena = CArena()
        var properties = amqp_basic_properties_t()
        let source = message.properties
        var flags: UInt32 = 0
        if let value = source.contentType {
            properties.content_type = arena.bytes(value)
            flags |= UInt32(AMQP_BASIC_CONTENT_TYPE_FLAG)
        }
        properties.delivery_mode = source.persistent ? 2 : 1
        flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        if let value = source.messageID {
            properties.message_id = arena.bytes(value)
            flags |= UInt32(AMQP_BASIC_MESSAGE_ID_FLAG)
        }
        if let value = source.type {
            properties.type = arena.bytes(value)
            flags |= UInt32(AMQP_BASIC_TYPE_FLAG)
        }
        if let value = source.correlationID {
            properties.correlation_id = arena.bytes(value)
            flags |= UInt32(AMQP_BASIC_CORRELATION_ID_FLAG)
        }
        if let value = source.replyTo {
            properties.reply_to = arena.bytes(value)
            flags |= UInt32(AMQP_BASIC_REPLY_TO_FLAG)
        }
        if let value = source.appID {
            properties.app_id = arena.bytes(value)
            flags |= UInt32(AMQP_BASIC_APP_ID_FLAG)
        }
        // Always this connection's user: the broker checks it, and consumers trust it to
        // tell who published (a copy republished here, a retry, says it came from here).
        properties.user_id = arena.bytes(endpoint.user)
        flags |= UInt32(AMQP_BASIC_USER_ID_FLAG)
        if let value = source.expirationMilliseconds {
            properties.expiration = arena.bytes(String(value))
            flags |= UInt32(AMQP_BASIC_EXPIRATION_FLAG)
        }
        if let value = source.timestamp {
            properties.timestamp = UInt64(max(0, value.timeIntervalSince1970))
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG)
        }
        if !source.headers.isEmpty {
            properties.headers = arena.table(source.headers)
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
        }
        properties._flags = flags
        let body = arena.bytes(message.body)
        return amqp_basic_publish(
            state, channel ?? self.channel, arena.bytes(message.exchange), arena.bytes(message.routingKey),
            message.mandatory ? 1 : 0, 0, &properties, body)
    }

    private func declare(_ topology: Topology) throws {
        guard let state = connection else { throw AMQPError.notConnected("connecting") }
        for exchange in topology.exchanges {
            let arena = CArena()
            amqp_exchange_declare(
                state, channel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0,
                exchange.durable ? 1 : 0, 0, 0, amqp_empty_table)
            try check(amqp_get_rpc_reply(state), doing: "declare exchange \(exchange.name)")
        }
        for queue in topology.queues {
            let arena = CArena()
            amqp_queue_declare(
                state, channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0,
                queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, arena.table(queue.arguments))
            try check(amqp_get_rpc_reply(state), doing: "declare queue \(queue.name)")
            for binding in queue.bindings {
                amqp_queue_bind(
                    state, channel, arena.bytes(queue.name), arena.bytes(binding.exchange),
                    arena.bytes(binding.routingKey), amqp_empty_table)
                try check(
                    amqp_get_rpc_reply(state),
                    doing: "bind \(queue.name) to \(binding.exchange) with \(binding.routingKey)")
            }
        }
    }

    private func startConsuming(_ registration: AMQPConnection.ConsumerRegistration) throws {
        guard let state = connection else { throw AMQPError.notConnected("connecting") }
        let arena = CArena()
        amqp_basic_qos(state, channel, 0, registration.prefetch, 0)
        try check(amqp_get_rpc_reply(state), doing: "set prefetch")
        amqp_basic_consume(
            state, channel, arena.bytes(registration.queue), arena.bytes(registration.consumerTag),
            0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), doing: "consume \(registration.queue)")
    }

    // MARK: - Frames

    /// Reads one frame if one is available now. Returns false when there was none.
    private func readFrame() throws -> Bool {
        guard let state = connection else { return false }
        var frame = amqp_frame_t()
        var noWait = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &noWait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return false }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.connectionLost(String(cString: amqp_error_string2(status)))
        }
        defer { amqp_maybe_release_buffers(state) }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), let decoded = frame.payload.method.decoded
        else { return true }
        switch frame.payload.method.id {
        case kindred_basic_ack_method:
            let ack = decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            settle(upTo: ack.delivery_tag, multiple: ack.multiple != 0, accepted: true)
        case kindred_basic_nack_method:
            let nack = decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            settle(upTo: nack.delivery_tag, multiple: nack.multiple != 0, accepted: false)
        case kindred_basic_return_method:
            let message = try readMessage(channel: frame.channel)
            if frame.channel == requestChannel {
                // A request no queue takes fails now, not at its deadline; a reply whose
                // requester is gone is simply dropped.
                let returned = decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
                if let id = message.properties.messageID, let request = pendingRequests.removeValue(forKey: id) {
                    request.complete(
                        .failure(
                            .unroutable(exchange: returned.exchange.string, routingKey: returned.routing_key.string)))
                }
            } else if let id = message.properties.messageID {
                returnedMessageIDs.insert(id)
            }
        case kindred_basic_deliver_method:
            let deliver = decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let consumerTag = deliver.consumer_tag.string
            let exchange = deliver.exchange.string
            let routingKey = deliver.routing_key.string
            let message = try readMessage(channel: frame.channel)
            if frame.channel == requestChannel {
                answerRequest(with: message)
                return true
            }
            guard let registration = consumers[consumerTag] else {
                // Sent before the broker saw our cancel: give it back now, or it would stay
                // unacknowledged (and invisible to other consumers) until the connection closes.
                if let state = connection {
                    try checkStatus(amqp_basic_nack(state, channel, deliver.delivery_tag, 0, 1), doing: "requeue")
                }
                return true
            }
            let yielded = registration.continuation.yield(
                Delivery(
                    body: message.body, properties: message.properties, exchange: exchange,
                    routingKey: routingKey, redelivered: deliver.redelivered != 0,
                    deliveryTag: deliver.delivery_tag, generation: generation,
                    queue: registration.queue))
            if case .terminated = yielded {
                // Its consumer stopped before the cancel went out: nobody will settle it.
                if let state = connection {
                    try checkStatus(amqp_basic_nack(state, channel, deliver.delivery_tag, 0, 1), doing: "requeue")
                }
            } else {
                unsettled.append(deliver.delivery_tag)
            }
        case kindred_basic_cancel_method:
            let cancel = decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = cancel.consumer_tag.string
            if let registration = consumers.removeValue(forKey: tag) {
                logger.warning("the broker cancelled a consumer", metadata: ["queue": "\(registration.queue)"])
                registration.continuation.finish(
                    throwing: AMQPError.refused("consumer of \(registration.queue) cancelled by the broker"))
            }
        case kindred_channel_close_method, kindred_connection_close_method:
            var text = [CChar](repeating: 0, count: 512)
            kindred_amqp_describe_close(frame.payload.method, &text, text.count)
            let code =
                frame.payload.method.id == kindred_channel_close_method
                ? decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee.reply_code
                : decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee.reply_code
            // Access refused, not found, precondition failed: the broker refused something we
            // sent (a publish it will never take), not a failure of the connection as such.
            if [403, 404, 406].contains(code) { throw AMQPError.refused(cText(text)) }
            throw AMQPError.connectionLost(cText(text))
        case kindred_connection_blocked_method:
            publishingBlocked = true
            logger.warning("the broker blocked publishing (resource alarm)")
        case kindred_connection_unblocked_method:
            publishingBlocked = false
            logger.info("the broker unblocked publishing")
            // One at a time off the stored lists: if the connection fails halfway, what is
            // left is still there for failInFlight to answer.
            while !heldPublishes.isEmpty {
                let publish = heldPublishes.removeFirst()
                try execute(.publish(publish.message, deadline: publish.deadline, publish.complete))
            }
            while !heldRequests.isEmpty { try execute(.request(heldRequests.removeFirst())) }
            while !heldSends.isEmpty {
                let send = heldSends.removeFirst()
                try execute(.send(send.message, deadline: send.deadline))
            }
        default:
            break
        }
        return true
    }

    private func readMessage(channel: amqp_channel_t) throws -> (
        body: [UInt8], properties: MessageProperties
    ) {
        guard let state = connection else { throw AMQPError.notConnected("connecting") }
        var message = amqp_message_t()
        try check(amqp_read_message(state, channel, &message, 0), doing: "read a message")
        defer { amqp_destroy_message(&message) }
        let raw = message.properties
        let flags = raw._flags
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        let properties = MessageProperties(
            messageID: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? raw.message_id.string : nil,
            type: has(AMQP_BASIC_TYPE_FLAG) ? raw.type.string : nil,
            correlationID: has(AMQP_BASIC_CORRELATION_ID_FLAG) ? raw.correlation_id.string : nil,
            replyTo: has(AMQP_BASIC_REPLY_TO_FLAG) ? raw.reply_to.string : nil,
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG)
                ? Date(timeIntervalSince1970: TimeInterval(raw.timestamp)) : nil,
            appID: has(AMQP_BASIC_APP_ID_FLAG) ? raw.app_id.string : nil,
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? raw.content_type.string : nil,
            persistent: has(AMQP_BASIC_DELIVERY_MODE_FLAG) && raw.delivery_mode == 2,
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? raw.headers.headerValues : [:],
            userID: has(AMQP_BASIC_USER_ID_FLAG) ? raw.user_id.string : nil)
        return (message.body.array, properties)
    }

    /// Starts consuming direct replies on the request channel, once per connection (at
    /// connect): RabbitMQ takes a request with `reply_to` `amq.rabbitmq.reply-to` only on a
    /// channel that does.
    private func startConsumingReplies() throws {
        guard !consumingReplies, let state = connection else { return }
        let arena = CArena()
        amqp_basic_consume(
            state, requestChannel, arena.bytes(AMQPConnection.directReplyTo), arena.bytes(replyConsumerTag),
            0, 1, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), doing: "consume direct replies")
        consumingReplies = true
    }

    /// Resumes the request a reply names, here on the owner thread. A reply for no pending
    /// request (it came after the deadline) or from a broker user the request does not take
    /// answers from is dropped.
    private func answerRequest(with message: (body: [UInt8], properties: MessageProperties)) {
        guard let id = message.properties.correlationID, let request = pendingRequests[id] else {
            logger.debug("a reply came for no waiting request (after its deadline)")
            return
        }
        if let repliers = request.repliers, !repliers.contains(message.properties.userID ?? "") {
            logger.warning(
                "dropped a reply from a broker user that answers no request of ours",
                metadata: ["user_id": "\(message.properties.userID ?? "-")"])
            return
        }
        pendingRequests.removeValue(forKey: id)
        request.complete(.success(ReplyMessage(body: message.body, properties: message.properties)))
    }

    /// Sends the acknowledgements of this pass: the oldest unsettled deliveries in one
    /// `multiple` ack, any others one by one (a delivery still being handled sits between).
    private func flushAcknowledgements() throws {
        guard !acksThisPass.isEmpty, let state = connection else { return }
        var covered = 0
        while covered < unsettled.count, acksThisPass.contains(unsettled[covered]) { covered += 1 }
        if covered > 0 {
            let last = unsettled[covered - 1]
            try checkStatus(amqp_basic_ack(state, channel, last, covered > 1 ? 1 : 0), doing: "acknowledge")
            for tag in unsettled[..<covered] { acksThisPass.remove(tag) }
            unsettled.removeFirst(covered)
        }
        for tag in acksThisPass.sorted() {
            try checkStatus(amqp_basic_ack(state, channel, tag, 0), doing: "acknowledge")
            removeUnsettled(tag)
        }
        acksThisPass = []
    }

    private func removeUnsettled(_ tag: UInt64) {
        // Ascending: a binary search finds it among a prefetch's worth.
        var low = 0
        var high = unsettled.count
        while low < high {
            let middle = (low + high) / 2
            if unsettled[middle] < tag { low = middle + 1 } else { high = middle }
        }
        if low < unsettled.count, unsettled[low] == tag { unsettled.remove(at: low) }
    }

    /// Makes the loop wake by `deadline` at the latest.
    private func wakeBy(_ deadline: ContinuousClock.Instant) {
        earliestDeadline = min(earliestDeadline ?? deadline, deadline)
    }

    /// Answers what waited past its deadline: publishes whose confirm did not come
    /// (`confirmTimeout`; a confirm that arrives later finds nothing to answer), requests
    /// without a reply (`noReply`), and drops answers held (the broker blocks publishing)
    /// past theirs.
    private func expireDue() {
        guard let earliest = earliestDeadline else { return }
        let now = ContinuousClock.now
        guard now >= earliest else { return }
        var next: ContinuousClock.Instant?
        /// Whether `deadline` has come; if not, it may be the next one to wake for.
        func isDue(_ deadline: ContinuousClock.Instant) -> Bool {
            if deadline <= now { return true }
            next = min(next ?? deadline, deadline)
            return false
        }
        for (tag, pending) in pendingConfirms where isDue(pending.deadline) {
            pendingConfirms.removeValue(forKey: tag)
            if let id = pending.messageID { returnedMessageIDs.remove(id) }
            pending.complete(.failure(AMQPError.confirmTimeout))
        }
        heldPublishes.removeAll { held in
            guard isDue(held.deadline) else { return false }
            held.complete(.failure(AMQPError.confirmTimeout))
            return true
        }
        for (id, request) in pendingRequests where isDue(request.deadline) {
            pendingRequests.removeValue(forKey: id)
            request.complete(.failure(.noReply))
        }
        heldRequests.removeAll { request in
            guard isDue(request.deadline) else { return false }
            request.complete(.failure(.noReply))
            return true
        }
        heldSends.removeAll { isDue($0.deadline) }
        earliestDeadline = next
    }

    /// Answers the publishes a confirm covers: all up to `tag` when `multiple`.
    private func settle(upTo tag: UInt64, multiple: Bool, accepted: Bool) {
        let tags = multiple ? pendingConfirms.keys.filter { $0 <= tag } : [tag]
        for settled in tags {
            guard let pending = pendingConfirms.removeValue(forKey: settled) else { continue }
            if !accepted {
                pending.complete(.failure(AMQPError.nacked))
            } else if let id = pending.messageID, returnedMessageIDs.remove(id) != nil {
                pending.complete(
                    .failure(AMQPError.unroutable(exchange: pending.exchange, routingKey: pending.routingKey)))
            } else {
                pending.complete(.success(()))
            }
        }
    }

    // MARK: - Errors

    private func check(_ reply: amqp_rpc_reply_t, doing action: String) throws {
        guard reply.reply_type != AMQP_RESPONSE_NORMAL else { return }
        var text = [CChar](repeating: 0, count: 512)
        kindred_amqp_describe_reply(reply, &text, text.count)
        let description = "cannot \(action): \(cText(text))"
        if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION {
            throw AMQPError.refused(description)
        }
        throw AMQPError.connectionLost(description)
    }

    private func checkStatus(_ status: Int32, doing action: String) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw AMQPError.connectionLost("cannot \(action): \(String(cString: amqp_error_string2(status)))")
    }
}

/// A Swift string from a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
