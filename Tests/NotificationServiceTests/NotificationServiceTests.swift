import Contracts
import NotificationService
import TestSupport
import Testing

@Suite("Notification service start-up")
struct NotificationServiceTests {
    @Test("it migrates its own database, declares its queues and reports ready")
    func startsAndIsReady() async throws {
        try await ServiceHarness.expectStartsAndIsReady(.notification, build: NotificationService.build)
    }

    @Test("it handles exactly the events the registry says it consumes, so it starts")
    func handlersMatchRegistry() throws {
        try ServiceHarness.expectHandlersMatchRegistry(.notification, build: NotificationService.build)
    }
}
