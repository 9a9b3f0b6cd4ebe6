// The photo path, measured through the release gateway and media service that scripts/bench
// starts (KINDRED_BENCH_MODE=photos): a 12-megapixel JPEG of about 3 MB, uploaded and
// followed until it is approved.
//   - latency: one upload at a time, from the POST to the first GET that shows it approved
//     (polled every 5 ms), p50 and p99;
//   - throughput: KINDRED_BENCH_PHOTO_CONCURRENCY (8) uploads at a time, photos approved
//     per second of wall time;
//   - memory: the media process's peak resident set (VmHWM, reset before through
//     /proc/PID/clear_refs) while those 8 are in flight, beside its resident set before.
// Every upload carries a different comment segment, so that no two have the same SHA-256
// (an exact copy of one's own photo is refused) while the pixels, and the work, are the same.
import CTurboJPEG
import Foundation
import OutboundHTTP

enum PhotoBenchmark {
    static let width = 4000
    static let height = 3000

    static func run() async throws {
        let gateway = environment("KINDRED_BENCH_GATEWAY_URL")
        let mediaPID = environment("KINDRED_BENCH_MEDIA_PID")
        let samples = setting("KINDRED_BENCH_PHOTO_SAMPLES", 30)
        let concurrency = setting("KINDRED_BENCH_PHOTO_CONCURRENCY", 8)
        let rounds = setting("KINDRED_BENCH_PHOTO_ROUNDS", 3)
        let http = HTTPClient(timeout: .seconds(60))
        let base = try photo()
        print("kindred-bench photos: \(width)×\(height) JPEG of \(base.count) bytes")

        // Latency, one at a time: one user, each photo removed once approved.
        let user = try await register(http, gateway)
        var latencies: [Double] = []
        var accepting: [Double] = []
        for index in 0..<samples {
            let started = ContinuousClock.now
            let photoID = try await upload(http, gateway, token: user, commented(base, index))
            accepting.append(milliseconds(ContinuousClock.now - started))
            try await waitUntilApproved(http, gateway, token: user, photoID)
            latencies.append(milliseconds(ContinuousClock.now - started))
            _ = try await http.send(
                "DELETE", "\(gateway)/v1/media/photos/\(photoID)", headers: ["Authorization": "Bearer \(user)"])
        }
        latencies.sort()
        accepting.sort()
        line(
            "  of which upload → 202 accepted",
            String(format: "p50 %7.1f ms  p99 %7.1f ms", percentile(accepting, 0.5), percentile(accepting, 0.99)))
        line(
            "upload → approved, one at a time (\(samples))",
            String(format: "p50 %7.1f ms  p99 %7.1f ms", percentile(latencies, 0.5), percentile(latencies, 0.99)))

        // Throughput and memory: `concurrency` users upload at once, `rounds` photos each.
        var users: [String] = []
        for _ in 0..<concurrency { users.append(try await register(http, gateway)) }
        let residentBefore = memory(of: mediaPID, "VmRSS")
        try? "5".write(toFile: "/proc/\(mediaPID)/clear_refs", atomically: false, encoding: .utf8)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (slot, token) in users.enumerated() {
                group.addTask {
                    for round in 0..<rounds {
                        let photoID = try await upload(
                            http, gateway, token: token, commented(base, 1000 + slot * rounds + round))
                        try await waitUntilApproved(http, gateway, token: token, photoID)
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        let peak = memory(of: mediaPID, "VmHWM")
        line(
            "photos approved per second (\(concurrency) at a time)",
            String(
                format: "%8.2f photos/s (%d in %.1f s)", Double(concurrency * rounds) / seconds, concurrency * rounds,
                seconds))
        line(
            "media resident memory, before → peak",
            String(format: "%6.0f MB → %6.0f MB", Double(residentBefore) / 1024, Double(peak) / 1024))
    }

    /// A 4000×3000 picture with a gradient, edges and a little noise, as a JPEG of about 3 MB.
    static func photo() throws -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var state: UInt32 = 2_463_534_242
        for y in 0..<height {
            for x in 0..<width {
                state ^= state << 13
                state ^= state >> 17
                state ^= state << 5
                let noise = Int(state & 0x1F)
                let stripe = ((x / 37) + (y / 53)) % 2 == 0 ? 40 : 0
                let offset = (y * width + x) * 3
                pixels[offset] = UInt8(clamping: x * 200 / width + stripe + noise)
                pixels[offset + 1] = UInt8(clamping: y * 200 / height + noise)
                pixels[offset + 2] = UInt8(clamping: 128 + stripe - noise)
            }
        }
        for quality: Int32 in [92, 88, 84, 80, 75, 70, 60] {
            let encoded = try encode(pixels, quality: quality)
            if encoded.count <= 3_300_000 { return encoded }
        }
        return try encode(pixels, quality: 50)
    }

    static func encode(_ pixels: [UInt8], quality: Int32) throws -> [UInt8] {
        guard let handle = tjInitCompress() else { throw BenchError("no JPEG encoder") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer { source in
            tjCompress2(
                handle, source.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue), &output, &size,
                Int32(TJSAMP_420.rawValue), quality, 0)
        }
        defer { tjFree(output) }
        guard status == 0, let output else { throw BenchError("the JPEG encoder failed") }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    /// The JPEG with a comment segment (COM) naming `index` right after its start marker.
    static func commented(_ jpeg: [UInt8], _ index: Int) -> [UInt8] {
        let text = Array("kindred-bench \(index)".utf8)
        let length = text.count + 2
        return Array(jpeg[0..<2]) + [0xFF, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)] + text + jpeg[2...]
    }

    static func register(_ http: HTTPClient, _ gateway: String) async throws -> String {
        let email = "photo-bench-\(UUID().uuidString.lowercased())@example.com"
        let answer = try await http.send(
            "POST", "\(gateway)/v1/auth/register", headers: ["Content-Type": "application/json"],
            body: Array(#"{"email":"\#(email)","password":"correct horse battery"}"#.utf8))
        guard answer.status == 201,
            let body = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any],
            let token = body["accessToken"] as? String
        else { throw BenchError("registering answered \(answer.status)") }
        return token
    }

    static func upload(_ http: HTTPClient, _ gateway: String, token: String, _ bytes: [UInt8]) async throws -> String {
        let answer = try await http.send(
            "POST", "\(gateway)/v1/media/photos",
            headers: ["Authorization": "Bearer \(token)", "Content-Type": "image/jpeg"], body: bytes)
        guard answer.status == 202,
            let body = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any],
            let photoID = body["photoId"] as? String
        else { throw BenchError("an upload answered \(answer.status): \(answer.text.prefix(300))") }
        return photoID
    }

    static func waitUntilApproved(_ http: HTTPClient, _ gateway: String, token: String, _ photoID: String)
        async throws
    {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let answer = try await http.send(
                "GET", "\(gateway)/v1/media/photos/\(photoID)", headers: ["Authorization": "Bearer \(token)"])
            let status =
                (try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["status"] as? String
            if status == "approved" { return }
            if status != "processing" { throw BenchError("photo \(photoID) ended \(status ?? "\(answer.status)")") }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchError("photo \(photoID) was not approved within 120 s")
    }

    /// A `kB` figure of /proc/PID/status (`VmRSS`, `VmHWM`), 0 if it cannot be read.
    static func memory(of pid: String, _ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
