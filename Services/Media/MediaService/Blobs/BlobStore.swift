import Contracts
import Crypto
import Foundation

/// Where photo variants are kept, by key. The key of a blob is the SHA-256 of its bytes
/// (hex): content-addressed, so writing one twice is harmless and instances that share a
/// store never step on each other.
public protocol BlobStore: Sendable {
    func put(_ bytes: [UInt8], key: String, contentType: String) async throws
    /// nil if there is no such blob.
    func get(_ key: String) async throws -> [UInt8]?
    /// Removing a blob that is not there is no error.
    func delete(_ key: String) async throws
}

/// A blob store's failure, for logs (never the blob itself).
public struct BlobStoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum BlobKey {
    public static func of(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }

    /// A key is 64 lower-case hex digits: anything else never reaches a path or a URL.
    public static func isValid(_ key: String) -> Bool {
        key.utf8.count == 64 && key.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// Blobs as files under one directory (`KINDRED_MEDIA_DIR`): `ab/cd/abcd…`, written to a
/// temporary name and renamed, so a reader never sees half a file.
public struct DirectoryBlobStore: BlobStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func path(of key: String) throws -> URL {
        guard BlobKey.isValid(key) else { throw BlobStoreError("not a blob key") }
        let utf8 = Array(key.utf8)
        let first = String(decoding: utf8[0..<2], as: UTF8.self)
        let second = String(decoding: utf8[2..<4], as: UTF8.self)
        return root.appendingPathComponent(first).appendingPathComponent(second).appendingPathComponent(key)
    }

    public func put(_ bytes: [UInt8], key: String, contentType: String) async throws {
        let target = try path(of: key)
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(key).\(UUID().uuidString)")
        try Data(bytes).write(to: temporary)
        if rename(temporary.path, target.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw BlobStoreError("cannot store a blob: errno \(errno)")
        }
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        let target = try path(of: key)
        guard let data = FileManager.default.contents(atPath: target.path) else { return nil }
        return Array(data)
    }

    public func delete(_ key: String) async throws {
        let target = try path(of: key)
        if unlink(target.path) != 0, errno != ENOENT { throw BlobStoreError("cannot remove a blob: errno \(errno)") }
    }
}
