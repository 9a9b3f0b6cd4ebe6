import Foundation
import TestSupport
import Testing

@testable import MediaService

@Suite("Blob stores: a directory, and an S3-compatible store over SigV4")
struct BlobStoreTests {
    func exercise(_ store: any BlobStore) async throws {
        let bytes = Array("a photo's variant \(UUID())".utf8)
        let key = BlobKey.of(bytes)
        #expect(try await store.get(key) == nil)
        try await store.put(bytes, key: key, contentType: "image/jpeg")
        try await store.put(bytes, key: key, contentType: "image/jpeg")  // content-addressed: again is harmless
        #expect(try await store.get(key) == bytes)
        try await store.delete(key)
        #expect(try await store.get(key) == nil)
        try await store.delete(key)  // gone already: no error
        await #expect(throws: BlobStoreError.self) {
            try await store.put(bytes, key: "../../etc/passwd", contentType: "x")
        }
    }

    @Test("a directory store keeps blobs by their hash and writes them whole")
    func directory() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = try DirectoryBlobStore(root: root)
        try await exercise(store)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: root.path).filter { $0.contains("/.") }
        #expect(leftovers.isEmpty, "no temporary files left: \(leftovers)")
    }

    func s3(secret: String? = nil) throws -> S3BlobStore {
        try S3BlobStore(
            S3BlobStore.Configuration(
                endpoint: try TestEnvironment.value("KINDRED_TEST_S3_URL"),
                bucket: try TestEnvironment.value("KINDRED_TEST_S3_BUCKET"), region: "us-east-1",
                accessKey: try TestEnvironment.value("KINDRED_TEST_S3_ACCESS_KEY"),
                secretKey: try secret ?? TestEnvironment.value("KINDRED_TEST_S3_SECRET_KEY")))
    }

    @Test("the S3 store against the local S3-compatible server, which checks every signature")
    func s3Store() async throws {
        try await exercise(try s3())
        // A wrong secret is refused by the server: the signatures it accepted were real.
        let forged = try s3(secret: "not-the-secret")
        let error = await #expect(throws: BlobStoreError.self) {
            try await forged.put([1, 2, 3], key: BlobKey.of([1, 2, 3]), contentType: "image/jpeg")
        }
        #expect(error?.description.contains("SignatureDoesNotMatch") == true, "\(String(describing: error))")
        #expect(throws: BlobStoreError.self) {
            try S3BlobStore(
                S3BlobStore.Configuration(
                    endpoint: "ftp://example.com/path", bucket: "b", region: "r", accessKey: "a", secretKey: "s"))
        }
    }
}
