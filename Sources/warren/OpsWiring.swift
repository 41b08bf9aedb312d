import Logging
import ServiceLifecycle
import WarrenCore
import WarrenOps
import WarrenStore
import WarrenWeb

/// Wires what operators see: the metrics backend and the log format (``GlobalOptions``), the
/// small HTTP server of a role run alone, and the store's readiness check.
enum OpsWiring {
    /// Makes the process's logs and metrics: text or JSON lines on standard error at `level`,
    /// and Warren's Prometheus registry behind swift-metrics. Once per process.
    static func bootstrap(format: LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        WarrenMetrics.bootstrap()
    }

    /// The server of `/metrics`, `/readyz` and `/healthz` on `WARREN_METRICS_PORT` (on
    /// `WARREN_HTTP_HOST`), for a process without the web role; none when the port is `off`.
    static func services(_ configuration: WarrenConfiguration, logger: Logger) -> [any Service] {
        guard case .port(let port) = configuration.metricsPort else { return [] }
        return [buildOperationsApplication(host: configuration.httpHost, port: port, logger: logger)]
    }

    /// The web role's reader of the broker's management API (`WARREN_MGMT_URL`), for
    /// `GET /api/ops` and the queue metrics, and the service that reads the queues every 5 s;
    /// none when the URL is `off`.
    static func opsWatcher(_ configuration: WarrenConfiguration, logger: Logger) throws -> (OpsWatcher?, [any Service]) {
        guard let url = configuration.mgmtURL else { return (nil, []) }
        guard let api = ManagementAPI(url: url, amqpURL: configuration.amqpURL) else {
            throw CommandFailure("WARREN_MGMT_URL \(url): expected http://[USER:PASSWORD@]HOST[:PORT]")
        }
        let watcher = OpsWatcher(api: api, topology: configuration.topology, logger: logger)
        return (watcher, [QueuePolling(watcher: watcher)])
    }

    /// `/readyz` asks the store for its newest event: ready while it answers within 2 s.
    static func watchStore(_ store: Store) {
        ReadinessBoard.process.addCheck("store") { _ = try await store.events.latest(limit: 1) }
    }
}

/// Reads the shared queues every 5 s (``OpsWatcher/poll()``) until shutdown.
struct QueuePolling: Service {
    let watcher: OpsWatcher

    func run() async throws {
        try? await cancelWhenGracefulShutdown { await self.watcher.poll() }
    }
}
