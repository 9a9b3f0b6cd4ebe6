import Contracts
import PaymentService
import TestSupport
import Testing

@Suite("Payment service start-up")
struct PaymentServiceTests {
    @Test("it migrates its own database, declares its queues and reports ready")
    func startsAndIsReady() async throws {
        try await ServiceHarness.expectStartsAndIsReady(.payment, build: PaymentService.build)
    }

    @Test("it handles exactly the events the registry says it consumes, so it starts")
    func handlersMatchRegistry() throws {
        try ServiceHarness.expectHandlersMatchRegistry(.payment, build: PaymentService.build)
    }
}
