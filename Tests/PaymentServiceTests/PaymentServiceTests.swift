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
}
