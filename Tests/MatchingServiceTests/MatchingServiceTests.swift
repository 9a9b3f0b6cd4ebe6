import Contracts
import MatchingService
import TestSupport
import Testing

@Suite("Matching service start-up")
struct MatchingServiceTests {
    @Test("it migrates its own database, declares its queues and reports ready")
    func startsAndIsReady() async throws {
        try await ServiceHarness.expectStartsAndIsReady(.matching, build: MatchingService.build)
    }

    @Test("it handles exactly the events the registry says it consumes, so it starts")
    func handlersMatchRegistry() throws {
        try ServiceHarness.expectHandlersMatchRegistry(.matching, build: MatchingService.build)
    }
}
