import Foundation
import Hummingbird

extension OperationalRoutes {
    /// The public port's probes (`addProbes`) as routes of a server's table: its document
    /// describes them, but `ServiceHost` registers them, so `RouteTable.register` leaves them
    /// alone. (`/metrics` is on the admin port, which has no document.)
    package static func documentedProbes<Dependencies: Sendable>(
        of _: Dependencies.Type
    ) -> [RouteTable<Dependencies>.Route] {
        [
            .servedByRuntime(
                .get, "/health", summary: "Alive", tag: "operations", responses: [.described(.ok, "Alive")]),
            .servedByRuntime(
                .get, "/ready",
                summary: "Broker and database reachable, migrations applied (the reasons are on the admin port)",
                tag: "operations",
                responses: [
                    .described(.ok, #"Ready: {"status":"ready"}"#),
                    .described(.serviceUnavailable, #"Not ready: {"status":"not-ready"}"#),
                ]),
        ]
    }
}
