import Foundation
import Hummingbird
import Prometheus

/// `/health`, `/ready` and `/metrics`, which every service serves on its own port.
public enum OperationalRoutes {
    public static func add<Context: RequestContext>(
        to router: Router<Context>, readiness: Readiness, metrics: PrometheusCollectorRegistry
    ) {
        router.get("/health") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/ready") { _, _ in
            let problems = await readiness.problems()
            let body: [String: Any] = ["status": problems.isEmpty ? "ready" : "not-ready", "problems": problems]
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return Response(
                status: problems.isEmpty ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
