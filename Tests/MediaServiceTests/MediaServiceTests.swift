import Contracts
import MediaService
import TestSupport
import Testing

@Suite("Media service start-up")
struct MediaServiceTests {
    @Test("it migrates its own database, declares its queues and reports ready")
    func startsAndIsReady() async throws {
        try await ServiceHarness.expectStartsAndIsReady(.media) { runtime, reader in
            try MediaService.build(runtime: runtime, reader: &reader)
        }
    }

    @Test("it handles exactly the events the registry says it consumes, so it starts")
    func handlersMatchRegistry() throws {
        try ServiceHarness.expectHandlersMatchRegistry(.media) { runtime, reader in
            try MediaService.build(runtime: runtime, reader: &reader)
        }
    }
}
