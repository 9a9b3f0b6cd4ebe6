import Contracts
import Messaging
import Persistence
import ServiceRuntime
import Testing

@Suite("Configuration from KINDRED_* variables")
struct ConfigurationTests {
    @Test("defaults follow DESIGN.md: ports per service, loopback, per-service database and broker user")
    func defaults() throws {
        var reader = EnvironmentReader(["KINDRED_AMQP_URL": "amqp://kindred_matching:secret@127.0.0.1:5672/kindred"])
        let configuration = ServiceConfiguration(service: .matching, reader: &reader)
        try reader.validate()
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.httpPort == 8082)
        #expect(configuration.databaseURL == "host=127.0.0.1 port=5432 dbname=kindred_matching user=kindred_matching")
        #expect(configuration.amqp.user == "kindred_matching")
        #expect(configuration.amqp.virtualHost == "kindred")
        #expect(configuration.queueType == .classic)
        #expect(
            ServiceName.allCases.map(ServiceConfiguration.defaultPort(of:)) == [8080, 8081, 8082, 8083, 8084, 8085])
        // Metrics and detailed readiness: loopback, the public port + 1000.
        #expect(configuration.adminHTTPHost == "127.0.0.1")
        #expect(configuration.adminHTTPPort == 9082)
        #expect(
            configuration.databaseDefaults
                == ConnectionDefaults(connectTimeoutSeconds: 5, statementTimeoutMilliseconds: 30000))
        #expect(configuration.databaseAcquireTimeoutMilliseconds == 5000)
        #expect(configuration.maxMessageBytes == 16 * 1024 * 1024)
        #expect(configuration.redeliveryLimit == 5)
    }

    @Test("every problem is reported at once, naming its variable, and no secret is echoed")
    func problems() {
        var reader = EnvironmentReader([
            "KINDRED_HTTP_PORT": "eighty",
            "KINDRED_QUEUE_TYPE": "stream",
            "KINDRED_DB_POOL_SIZE": "0",
            "KINDRED_JWT_SECRET": "short-secret-value",
        ])
        _ = ServiceConfiguration(service: .gateway, reader: &reader)
        _ = reader.secret("KINDRED_JWT_SECRET", minimumLength: 32, purpose: "signing")
        do {
            try reader.validate()
            Issue.record("invalid configuration accepted")
        } catch {
            let text = error.description
            #expect(error.problems.count == 5)
            #expect(text.contains("KINDRED_HTTP_PORT must be a whole number from 1 to 65535, not 'eighty'"))
            #expect(text.contains("KINDRED_QUEUE_TYPE must be one of classic, quorum, not 'stream'"))
            #expect(text.contains("KINDRED_DB_POOL_SIZE"))
            #expect(text.contains("KINDRED_AMQP_URL must include the password"))
            #expect(text.contains("KINDRED_JWT_SECRET must be at least 32 bytes"))
            #expect(!text.contains("short-secret-value"))
        }
    }

    @Test("a required secret that is missing is named")
    func missingSecret() {
        var reader = EnvironmentReader([:])
        _ = reader.secret("KINDRED_JWT_SECRET", minimumLength: 32, purpose: "signing")
        #expect(throws: ConfigurationError(problems: ["KINDRED_JWT_SECRET is required (signing)"])) {
            try reader.validate()
        }
    }

    @Test("the topology of a service comes from the registry")
    func topology() {
        let topology = Topology.forService(.profile, queueType: .quorum)
        #expect(topology.exchanges == [Topology.exchange])
        let names = topology.queues.map(\.name)
        #expect(names.contains("UserRegistered.profile"))
        #expect(names.contains("UserRegistered.profile.dead"))
        let main = topology.queues.first { $0.name == "UserRegistered.profile" }
        #expect(main?.bindings == [Binding(exchange: "kindred", routingKey: "UserRegistered")])
        #expect(main?.arguments["x-queue-type"] == .string("quorum"))
        #expect(main?.durable == true)
        #expect(Topology.forService(.payment, queueType: .classic).queues.isEmpty)
    }
}
