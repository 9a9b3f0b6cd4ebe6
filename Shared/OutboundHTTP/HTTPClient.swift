import CCurl
import Foundation

/// The answer to an outbound HTTP request.
public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names lower-cased; the last value wins.
    public let headers: [String: String]
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
}

public struct HTTPClientError: Error, CustomStringConvertible {
    public let code: Int
    public let message: String
    public var description: String { "curl error \(code): \(message)" }
}

/// Outbound HTTP over libcurl: every call to a provider or webhook goes through here, so
/// proxies, TLS and timeouts are configured in one place. Each request runs on a dispatch
/// queue (libcurl blocks), never on Swift's cooperative pool.
public struct HTTPClient: Sendable {
    public var timeout: Duration

    public init(timeout: Duration = .seconds(10)) {
        Self.initialiseCurlOnce
        self.timeout = timeout
    }

    // curl_global_init must run once per process before any thread uses curl.
    private static let initialiseCurlOnce: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    public func send(
        _ method: String, _ url: String, headers: [String: String] = [:], body: [UInt8]? = nil
    ) async throws -> HTTPResponse {
        let timeoutMilliseconds = Int(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try Self.perform(
                            method: method, url: url, headers: headers, body: body,
                            timeoutMilliseconds: timeoutMilliseconds)
                    })
            }
        }
    }

    /// Collects what curl's callbacks hand over; passed to C as an unmanaged pointer.
    private final class Sink {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
    }

    private static func perform(
        method: String, url: String, headers: [String: String], body: [UInt8]?,
        timeoutMilliseconds: Int
    ) throws -> HTTPResponse {
        guard let handle = curl_easy_init() else {
            throw HTTPClientError(code: -1, message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }
        let sink = Sink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        kindred_curl_setopt_string(handle, CURLOPT_URL, url)
        kindred_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        kindred_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        kindred_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        kindred_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList)
        kindred_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
                sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        kindred_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        kindred_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let line = buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                sink.headers[name] = value
            }
            return length
        }
        kindred_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)
        let code: CURLcode = withExtendedLifetime(sink) {
            if let body, !body.isEmpty {
                // COPYPOSTFIELDS: curl keeps its own copy, so the Swift array need not outlive
                // this call.
                kindred_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
                return body.withUnsafeBytes { raw in
                    kindred_curl_setopt_pointer(
                        handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                    return curl_easy_perform(handle)
                }
            }
            if body != nil { kindred_curl_setopt_string(handle, CURLOPT_POSTFIELDS, "") }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            throw HTTPClientError(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        kindred_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}
