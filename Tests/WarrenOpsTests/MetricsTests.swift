import CoreMetrics
import Testing
import WarrenCore
import WarrenOps

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@Suite("Warren's metrics")
struct MetricsTests {
    @Test("Every family has a Prometheus name, bounded labels and, for a histogram, buckets")
    func names() {
        let names = MetricFamily.all.map(\.name)
        #expect(Set(names).count == names.count, "a name is declared once")
        for family in MetricFamily.all {
            #expect(family.name.hasPrefix("warren_"), "\(family.name)")
            #expect(family.name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && family.name == family.name.lowercased())
            #expect((family.kind == .counter) == family.name.hasSuffix("_total"), "\(family.name): counters and only counters end in _total")
            #expect((family.kind == .histogram) == !family.buckets.isEmpty, "\(family.name)")
            #expect(family.buckets == family.buckets.sorted())
            #expect(!family.labels.contains { ["login", "queue", "session_id", "user"].contains($0) }, "\(family.name): no unbounded label")
        }
    }

    @Test("The README's list of metrics is the declared one")
    func readme() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Operating Warren").dropFirst().first, "README has a section Operating Warren")
        for family in MetricFamily.all {
            #expect(section.contains("`\(family.name)`"), "README lists \(family.name)")
        }
    }

    @Test("What the helpers record reaches the registry with help, type and labels")
    func exposition() throws {
        let factory = WarrenMetricsFactory()
        withMetricsFactory(factory) {
            PostMetrics.admitted("plain")
            PostMetrics.admitted("plain")
            PostMetrics.refused(.textTooLong)
            PostMetrics.loggedIn(new: true)
            PostMetrics.loggedIn(new: false)
            PostMetrics.loggedOut(existed: true)
            BrokerMetrics.published(RoomEvent(id: "01JF0000000000000000000000", kind: .reply, from: "reverser", text: "olleh", at: Date()))
            PowMetrics.solved(Proof(bits: 8, challenge: "c", nonce: "1", hash: "00", elapsedMs: 1500, hashesPerSecond: 1000, via: .rpc))
            HistoryMetrics.batchWritten(events: 7, in: .milliseconds(3))
            AuthMetrics.decided(.resource, allowed: false)
        }
        let text = factory.registry.emitToString()
        #expect(text.contains("# HELP warren_posts_admitted_total Posts the login service admitted"))
        #expect(text.contains("# TYPE warren_posts_admitted_total counter"))
        #expect(text.contains(#"warren_posts_admitted_total{route="plain"} 2"#))
        #expect(text.contains(#"warren_posts_refused_total{code="text.tooLong"} 1"#))
        #expect(text.contains(#"warren_logins_total{session="new"} 1"#))
        #expect(text.contains(#"warren_logins_total{session="resumed"} 1"#))
        #expect(text.contains("warren_logouts_total 1"))
        #expect(text.contains("warren_tabs_signed_in 0"))
        #expect(text.contains(#"warren_deliveries_published_total{kind="reply"} 1"#))
        #expect(text.contains(#"warren_pow_solve_seconds_bucket{via="rpc",le="2.0"} 1"#), "\(text)")
        #expect(text.contains(#"warren_pow_solve_seconds_bucket{via="rpc",le="1.0"} 0"#))
        #expect(text.contains("warren_pow_hashes_per_second 1000"))
        #expect(text.contains("warren_history_batch_events_sum 7"))
        #expect(text.contains("warren_history_write_seconds_count 1"))
        #expect(text.contains(#"warren_auth_decisions_total{check="resource",decision="deny"} 1"#))
    }

    @Test("Hummingbird's metric names become Warren's, files one route")
    func hummingbirdNames() {
        let factory = WarrenMetricsFactory()
        let dimensions = [("http.route", "FileMiddleware"), ("http.request.method", "GET"), ("http.response.status_code", "200")]
        withMetricsFactory(factory) {
            CoreMetrics.Counter(label: "hb.requests", dimensions: dimensions).increment()
            CoreMetrics.Timer(label: "http.server.request.duration", dimensions: dimensions).recordMilliseconds(12)
        }
        let text = factory.registry.emitToString()
        #expect(text.contains(#"warren_http_requests_total{route="static",method="GET",status="200"} 1"#), "\(text)")
        #expect(text.contains(#"warren_http_request_duration_seconds_count{route="static",method="GET",status="200"} 1"#))
        #expect(text.contains("# HELP warren_http_request_duration_seconds"))
    }

    @Test("Without a backend nothing is recorded and there is nothing to show")
    func off() {
        PostMetrics.admitted("plain")
        #expect(WarrenMetrics.exposition() == nil)
    }

    @Test("WARREN_METRICS_PORT and WARREN_LOG_FORMAT", arguments: [
        ("off", MetricsPort.off), ("OFF", .off), ("0", .port(0)), ("9464", .port(9464)), ("65535", .port(65535)),
    ])
    func metricsPort(text: String, port: MetricsPort) throws {
        #expect(MetricsPort(text) == port)
        let configuration = try WarrenConfiguration.load(environment: ["WARREN_METRICS_PORT": text, "WARREN_LOG_FORMAT": "json"], envFile: nil)
        #expect(configuration.metricsPort == port)
        #expect(configuration.logFormat == .json)
    }

    @Test("Bad values are refused", arguments: ["65536", "-1", "on", "9090x", " "])
    func badMetricsPort(text: String) {
        #expect(MetricsPort(text) == nil)
        #expect(throws: ConfigurationError.self) {
            try WarrenConfiguration.load(environment: ["WARREN_METRICS_PORT": text], envFile: nil)
        }
    }

    @Test("The defaults: text logs, no metrics port")
    func defaults() {
        #expect(WarrenConfiguration.defaults.metricsPort == .off)
        #expect(WarrenConfiguration.defaults.logFormat == .text)
    }
}
