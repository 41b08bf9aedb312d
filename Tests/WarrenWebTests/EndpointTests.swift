import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WarrenWeb

@Suite("/config.json and /healthz")
struct EndpointTests {
    @Test("/config.json tells browsers the configured broker, uncached")
    func browserConfiguration() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/config.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                #expect(response.headers[.cacheControl] == "no-store")
                StaticFileTests.expectSecurityHeaders(response)

                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                )
                #expect(Set(object.keys) == ["stompURL", "vhost", "login", "passcode", "prefix", "powBits"])
                #expect(object["stompURL"] as? String == "wss://chat.example.org:15673/ws")
                #expect(object["vhost"] as? String == "test-vhost")
                #expect(object["login"] as? String == "tab")
                #expect(object["passcode"] as? String == "s3cret")
                #expect(object["prefix"] as? String == "team-a.chat")
                #expect(object["powBits"] as? Int == 12)
            }
        }
    }

    @Test("/config.json is the route even when the web root has a config.json")
    func routeWinsOverFile() async throws {
        let fixture = try WebFixture()
        try Data("{\"stale\":true}".utf8).write(to: fixture.root.appendingPathComponent("config.json"))
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/config.json", method: .get) { response in
                let body = try JSONDecoder().decode(BrowserConfiguration.self, from: Data(buffer: response.body))
                #expect(body == BrowserConfiguration(fixture.configuration))
            }
        }
    }

    @Test("/healthz is 200 while the broker is reachable")
    func healthy() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-store")
                let body = try JSONDecoder().decode(HealthReport.self, from: Data(buffer: response.body))
                #expect(body.status == "ok")
                #expect(body.broker == "reachable")
                StaticFileTests.expectSecurityHeaders(response)
            }
        }
    }

    @Test("/healthz is 503 while the broker is not")
    func unhealthy() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { false }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONDecoder().decode(HealthReport.self, from: Data(buffer: response.body))
                #expect(body.status == "unavailable")
                #expect(body.broker == "unreachable")
            }
        }
    }

    @Test("A burst of /healthz probes runs the check once")
    func healthIsCached() async throws {
        let fixture = try WebFixture()
        let counter = Counter()
        let app = buildApplication(
            configuration: fixture.configuration,
            brokerReachable: {
                counter.increment()
                return true
            },
            logger: .quiet
        )
        try await app.test(.router) { client in
            for _ in 0..<5 {
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
        #expect(counter.value == 1)
    }
}
