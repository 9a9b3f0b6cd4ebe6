import Foundation
import Hummingbird
import Prometheus

/// `/health`, `/ready` and `/metrics`.
///
/// The public port has the probes only, and `/ready` says no more than its status: it is
/// reachable from outside, so it names no host, broker error or pool. The admin port adds
/// the reasons and the metrics.
public enum OperationalRoutes {
    /// `/health` and a bare `/ready` (200 `{"status":"ready"}` or 503 `{"status":"not-ready"}`).
    public static func addProbes<Context: RequestContext>(to router: Router<Context>, readiness: Readiness) {
        addHealth(to: router)
        router.get("/ready") { _, _ in
            let ready = await readiness.problems().isEmpty
            return json(["status": ready ? "ready" : "not-ready"], status: ready ? .ok : .serviceUnavailable)
        }
    }

    /// `/health`, `/ready` with its reasons, and `/metrics`.
    public static func addAdmin<Context: RequestContext>(
        to router: Router<Context>, readiness: Readiness, metrics: PrometheusCollectorRegistry
    ) {
        addHealth(to: router)
        router.get("/ready") { _, _ in
            let problems = await readiness.problems()
            return json(
                ["status": problems.isEmpty ? "ready" : "not-ready", "problems": problems],
                status: problems.isEmpty ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    private static func addHealth<Context: RequestContext>(to router: Router<Context>) {
        router.get("/health") { _, _ in json(["status": "ok"], status: .ok) }
    }

    private static func json(_ body: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
