import Contracts
import Foundation
import OutboundHTTP
import TestSupport
import Testing

/// What the public port shows of a service's insides, and what only the admin port does.
extension WalkingSkeletonTests {
    @Test("the public port has bare probes only; metrics and readiness reasons are on the admin port")
    func operationalPorts() async throws {
        try await RunningSuite.run { suite in
            for service in [ServiceName.gateway, .profile] {
                let port = suite.ports[service] ?? 0
                let publicReady = try await http.send("GET", "http://127.0.0.1:\(port)/ready")
                #expect(publicReady.status == 200)
                #expect(publicReady.text == #"{"status":"ready"}"#, "the public /ready says nothing else")
                #expect(try await http.send("GET", "http://127.0.0.1:\(port)/health").status == 200)
                #expect(
                    try await http.send("GET", "http://127.0.0.1:\(port)/metrics").status == 404,
                    "\(service.rawValue) serves metrics on its public port")

                let adminReady = try await http.send("GET", suite.adminURL(of: service) + "/ready")
                #expect(adminReady.status == 200)
                let body = try json(adminReady)
                #expect(body["problems"] as? [String] == [])
                let metrics = try await http.send("GET", suite.adminURL(of: service) + "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.text.contains("kindred_outbox_backlog"))
            }
        }
    }
}
