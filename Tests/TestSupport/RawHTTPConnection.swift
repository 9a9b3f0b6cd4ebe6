import Contracts
import Foundation
import Glibc

/// A plain socket to a local HTTP server, for what the libcurl client hides: the interim
/// answers (`100 Continue`) and the order of what is sent and received.
public final class RawHTTPConnection: @unchecked Sendable {
    // @unchecked Sendable: a test uses one connection from one task at a time.
    private let descriptor: Int32
    private var received: [UInt8] = []

    public init(port: Int) throws {
        descriptor = try loopbackSocket(port: port)
    }

    deinit { close(descriptor) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
            guard sent > 0 else { throw RawHTTPError("the server closed the connection") }
            offset += sent
        }
    }

    /// Waits up to `timeout` until what was received contains `text`; returns everything
    /// received up to and including it (and keeps the rest), or nil.
    public func receive(until text: String, timeout: Duration) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.read(until: Array(text.utf8), timeout)) }
        }
    }

    private func read(until marker: [UInt8], _ timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let range = received.firstRange(of: marker) {
                let head = String(decoding: received[..<range.upperBound], as: UTF8.self)
                received.removeSubrange(..<range.upperBound)
                return head
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, max(1, Int32(clamping: remaining.milliseconds))) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            received += chunk[0..<count]
        }
    }
}

public struct RawHTTPError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A TCP socket connected to 127.0.0.1:`port`.
func loopbackSocket(port: Int) throws -> Int32 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        close(descriptor)
        throw RawHTTPError("cannot connect to 127.0.0.1:\(port)")
    }
    return descriptor
}
