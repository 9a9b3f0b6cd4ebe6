import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OutboundHTTP
import Testing

@Suite("libcurl HTTP client")
struct HTTPClientTests {
    func application() -> some ApplicationProtocol {
        let router = Router()
        router.post("/echo") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: HTTPFields = [.contentType: "application/octet-stream"]
            headers[HTTPField.Name("X-Seen-Token")!] = request.headers[.authorization] ?? "none"
            return Response(status: .created, headers: headers, body: .init(byteBuffer: body))
        }
        router.get("/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(2))
            return "late"
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test("a request's body, headers and status make the round trip")
    func roundTrip() async throws {
        try await application().test(.live) { client in
            let port = try #require(client.port)
            let payload = Array((0..<100_000).map { UInt8($0 % 251) })
            let response = try await HTTPClient().send(
                "POST", "http://127.0.0.1:\(port)/echo", headers: ["Authorization": "Bearer abc"], body: payload)
            #expect(response.status == 201)
            #expect(response.body == payload)
            #expect(response.headers["x-seen-token"] == "Bearer abc")
        }
    }

    @Test("a server slower than the timeout is an error, not a hang")
    func timeout() async throws {
        try await application().test(.live) { client in
            let port = try #require(client.port)
            await #expect(throws: HTTPClientError.self) {
                try await HTTPClient(timeout: .milliseconds(300)).send("GET", "http://127.0.0.1:\(port)/slow")
            }
        }
    }

    @Test("a refused connection is an error naming curl's reason")
    func refused() async throws {
        do {
            _ = try await HTTPClient().send("GET", "http://127.0.0.1:1/")
            Issue.record("connected to port 1")
        } catch let error as HTTPClientError {
            #expect(error.message.lowercased().contains("connect"))
        }
    }
}
