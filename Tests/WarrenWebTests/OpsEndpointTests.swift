import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WarrenOps
@testable import WarrenWeb

@Suite("/metrics and /readyz on the web role")
struct OpsEndpointTests {
    @Test("/metrics shows the HTTP requests by route and status and the broker's auth decisions")
    func metrics() async throws {
        let factory = WarrenMetricsFactory()
        let fixture = AccountsFixture()
        try await withMetricsFactory(factory) {
            try await fixture.app().test(.router) { client in
                _ = try await client.execute(uri: "/config.json", method: .get) { _ in }
                _ = try await client.execute(uri: "/app.js", method: .get) { _ in }
                #expect(await client.postForm("/auth/topic", [("username", "alice"), ("vhost", "test-vhost")]) == "deny")
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == WarrenMetrics.contentType)
                    let text = String(buffer: response.body)
                    #expect(text.contains(#"warren_http_requests_total{route="/config.json",method="GET",status="200"} 1"#), "\(text)")
                    #expect(text.contains(#"warren_http_requests_total{route="static",method="GET",status="200"} 1"#))
                    #expect(text.contains(#"warren_http_request_duration_seconds_count{route="/config.json",method="GET",status="200"} 1"#))
                    #expect(text.contains(#"warren_auth_decisions_total{check="topic",decision="deny"} 1"#))
                }
            }
        }
    }

    @Test("/metrics without a metrics backend says so")
    func metricsOff() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("/readyz is 503 while a role of the process is not connected, 200 once it is")
    func readyz() async throws {
        let fixture = try WebFixture()
        let board = ReadinessBoard()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await ReadinessBoard.$current.withValue(board) {
            try await app.test(.router) { client in
                let web = board.enroll("web")
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.cacheControl] == "no-store")
                    let report = try JSONDecoder().decode(ReadinessReport.self, from: Data(buffer: response.body))
                    #expect(report.roles == [.init(role: "web", connected: false)])
                    #expect(report.status == "not ready")
                }
                web.connected()
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }
}
