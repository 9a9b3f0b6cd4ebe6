import Contracts
import Foundation
import MediaService
import ServiceRuntime
import TestSupport
import Testing

@Suite("Media service start-up")
struct MediaServiceTests {
    /// What media needs besides the runtime's settings: the URL keys and a folder of its own.
    static func environment() throws -> [String: String] {
        [
            "KINDRED_MEDIA_URL_KEYS": try TestEnvironment.value("KINDRED_MEDIA_URL_KEYS"),
            "KINDRED_MEDIA_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("media-\(UUID())").path,
        ]
    }

    @Test("it refuses to start without the URL keys, naming them")
    func needsKeys() throws {
        let runtime = try ServiceHarness.runtime(for: .media)
        defer { runtime.close() }
        var reader = EnvironmentReader([:])
        _ = try MediaService.build(runtime: runtime, reader: &reader)
        #expect(reader.problems.contains { $0.contains("KINDRED_MEDIA_URL_KEYS") })
        var short = EnvironmentReader(["KINDRED_MEDIA_URL_KEYS": "k1:abcd"])
        _ = try MediaService.build(runtime: runtime, reader: &short)
        #expect(short.problems.contains { $0.contains("at least 32 bytes") })
    }

    @Test("it migrates its own database, declares its queues and reports ready")
    func startsAndIsReady() async throws {
        try await ServiceHarness.expectStartsAndIsReady(.media, environment: try Self.environment()) {
            try MediaService.build(runtime: $0, reader: &$1)
        }
    }

    @Test("it handles exactly the events the registry says it consumes, so it starts")
    func handlersMatchRegistry() throws {
        try ServiceHarness.expectHandlersMatchRegistry(.media, environment: try Self.environment()) {
            try MediaService.build(runtime: $0, reader: &$1)
        }
    }
}
