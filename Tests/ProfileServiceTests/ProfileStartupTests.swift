import Contracts
import ProfileService
import TestSupport
import Testing

@Suite("Profile service start-up")
struct ProfileStartupTests {
    @Test("it migrates its own database, declares its queues and reports ready")
    func startsAndIsReady() async throws {
        try await ServiceHarness.expectStartsAndIsReady(.profile, ownTables: ["profiles"]) { runtime, reader in
            try ProfileService.build(runtime: runtime, reader: &reader)
        }
    }

    @Test("it handles exactly the events the registry says it consumes, so it starts")
    func handlersMatchRegistry() throws {
        try ServiceHarness.expectHandlersMatchRegistry(.profile) { runtime, reader in
            try ProfileService.build(runtime: runtime, reader: &reader)
        }
    }
}
