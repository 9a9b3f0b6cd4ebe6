import Contracts
import Foundation
import Glibc

/// A minimal Server-Sent Events client over a plain socket, for tests: it keeps the stream
/// open and hands over frames as they arrive (the libcurl client waits for whole bodies).
public final class EventStreamReader: @unchecked Sendable {
    // @unchecked Sendable: a test uses one reader from one task at a time; its buffers are
    // touched only inside `next`, which the caller awaits before calling again.
    public struct Frame: Sendable, Equatable {
        public var id: String?
        public var event: String?
        public var data: String?
        public var isComment: Bool
    }

    public private(set) var status = 0
    public private(set) var headers: [String: String] = [:]
    private let socketDescriptor: Int32
    private var raw: [UInt8] = []
    private var chunked = false
    private var body: [UInt8] = []

    public init(port: Int, path: String, headers: [String: String]) throws {
        socketDescriptor = try loopbackSocket(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        _ = request.withCString { send(socketDescriptor, $0, strlen($0), 0) }
    }

    deinit { close(socketDescriptor) }

    /// The next frame, or nil if none arrived within `timeout` or the stream ended.
    public func next(timeout: Duration) async -> Frame? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.readFrame(timeout: timeout)) }
        }
    }

    private func readFrame(timeout: Duration) -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if status != 0, let frame = takeFrame() { return frame }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            var descriptor = pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: remaining.milliseconds)
            guard poll(&descriptor, 1, max(1, milliseconds)) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(socketDescriptor, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            raw += chunk[0..<count]
            if status == 0 { parseHead() }
            if status != 0 { decodeBody() }
        }
    }

    private func parseHead() {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = raw.firstRange(of: separator) else { return }
        let lines = String(decoding: raw[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? -1
        for line in lines.dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
        }
        chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
        raw.removeSubrange(..<end.upperBound)
    }

    private func decodeBody() {
        guard chunked else {
            body += raw
            raw = []
            return
        }
        let newline: [UInt8] = Array("\r\n".utf8)
        while let sizeEnd = raw.firstRange(of: newline) {
            let sizeText = String(decoding: raw[..<sizeEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16),
                raw.count >= sizeEnd.upperBound + size + 2
            else { return }
            body += raw[sizeEnd.upperBound..<(sizeEnd.upperBound + size)]
            raw.removeSubrange(..<(sizeEnd.upperBound + size + 2))
        }
    }

    private func takeFrame() -> Frame? {
        let separator: [UInt8] = Array("\n\n".utf8)
        guard let end = body.firstRange(of: separator) else { return nil }
        let text = String(decoding: body[..<end.lowerBound], as: UTF8.self)
        body.removeSubrange(..<end.upperBound)
        var frame = Frame(id: nil, event: nil, data: nil, isComment: false)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") { frame.isComment = true }
            if line.hasPrefix("id: ") { frame.id = String(line.dropFirst(4)) }
            if line.hasPrefix("event: ") { frame.event = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { frame.data = String(line.dropFirst(6)) }
        }
        return frame
    }
}
