import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WarrenWeb

@Suite("/config.json and /healthz")
struct EndpointTests {
    @Test("/config.json tells browsers the configured broker, uncached, and no credentials")
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
                // No login or passcode: each person signs in to the broker with their own token.
                #expect(Set(object.keys) == ["stompURL", "stompURLs", "vhost", "prefix", "powBits"])
                #expect(object["stompURL"] as? String == "wss://chat.example.org:15673/ws")
                #expect(object["stompURLs"] as? [String] == ["wss://chat.example.org:15673/ws"])
                #expect(object["vhost"] as? String == "test-vhost")
                #expect(object["prefix"] as? String == "team-a.chat")
                #expect(object["powBits"] as? Int == 12)
            }
        }
    }

    @Test("/config.json names general's stream when general reaches tabs through one")
    func generalStream() async throws {
        let fixture = try WebFixture()
        var configuration = fixture.configuration
        configuration.generalStream = "team-a.chat.stream.general"
        let app = buildApplication(configuration: configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/config.json", method: .get) { response in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(object["generalStream"] as? String == "team-a.chat.stream.general")
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
                #expect(body.reason == "the broker check failed")
            }
        }
    }

    @Test("A burst of /healthz probes runs the check once")
    func healthIsCached() async throws {
        let fixture = try WebFixture()
        let counter = Counter()
        // A clock that stands still: on a busy machine five requests may take longer than the
        // cache's second (the expiry itself is tested in HealthCheckTests).
        let health = CachedHealthCheck(maximumAge: .seconds(1), clock: ManualClock()) {
            counter.increment()
            return .reachable
        }
        let router = buildRouter(configuration: fixture.configuration, health: health, logger: .quiet)
        let app = Application(router: router)
        try await app.test(.router) { client in
            for _ in 0..<5 {
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
        #expect(counter.value == 1)
    }

    @Test("/healthz is 503 with a reason when nothing listens on the broker's port")
    func healthzClosedPort() async throws {
        let port = try await TestListener.closedPort()
        let reason = try await Self.healthz(brokerPort: port, expecting: .serviceUnavailable)
        #expect(reason?.contains("cannot connect to 127.0.0.1:\(port)") == true, "\(reason ?? "no reason")")
    }

    @Test("/healthz is 503 with a reason when the broker's port answers, but not in AMQP")
    func healthzNotAMQP() async throws {
        let listener = try await TestListener.start(greeting: Array("SSH-2.0-OpenSSH_9.2p1 Debian\r\n".utf8))
        let reason = try await Self.healthz(brokerPort: listener.port, expecting: .serviceUnavailable)
        #expect(reason?.contains("not with AMQP connection.start") == true, "\(reason ?? "no reason")")
        try await listener.close()
    }

    @Test("/healthz is 200 when the broker's port answers with connection.start")
    func healthzAMQP() async throws {
        let listener = try await TestListener.start(greeting: TestListener.connectionStartPrefix)
        let reason = try await Self.healthz(brokerPort: listener.port, expecting: .ok)
        #expect(reason == nil)
        try await listener.close()
    }

    /// GET /healthz of an application whose broker check is the real one, aimed at `brokerPort`.
    /// - Returns: the body's `reason`.
    static func healthz(brokerPort: Int, expecting status: HTTPResponse.Status) async throws -> String? {
        let fixture = try WebFixture()
        var configuration = fixture.configuration
        configuration.broker = .init(host: "127.0.0.1", port: brokerPort)
        // The check's own 1 s bound, on a busy machine, would turn "not AMQP" into "no answer".
        let check = amqpGreetingCheck(to: configuration.broker, timeout: .seconds(10), logger: .quiet)
        let app = buildApplication(configuration: configuration, brokerReachable: check, logger: .quiet)
        return try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == status)
                let body = try JSONDecoder().decode(HealthReport.self, from: Data(buffer: response.body))
                #expect(body.status == (status == .ok ? "ok" : "unavailable"))
                #expect(body.broker == (status == .ok ? "reachable" : "unreachable"))
                return body.reason
            }
        }
    }
}
