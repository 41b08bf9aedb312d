import Hummingbird
import NIOCore
import WarrenOps

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What an operator asks every Warren process: `GET /metrics` (Prometheus text format),
/// `GET /readyz` (the roles' broker connections and the store, ``ReadinessBoard``) and, on a
/// role's own port, `GET /healthz` (alive: the process answers).
///
/// The web role serves `/metrics` and `/readyz` beside its page (its `/healthz` stays the broker
/// greeting, see ``HealthReport``); a role run alone serves all three on `WARREN_METRICS_PORT`
/// (``buildOperationsApplication(host:port:logger:)``).
public enum OpsRoutes {
    /// Adds `/metrics` and `/readyz`; `/healthz` too when `alive` (a role's own port).
    public static func add<Context: RequestContext>(to router: Router<Context>, alive: Bool = false) {
        router.get("metrics") { _, _ -> Response in
            guard let text = WarrenMetrics.exposition() else {
                return Self.text("metrics are not recorded in this process\n", status: .notFound)
            }
            return Self.text(text, status: .ok, contentType: WarrenMetrics.contentType)
        }
        router.get("readyz") { _, _ -> Response in
            let report = await ReadinessBoard.current.report()
            return try Self.json(report, status: report.isReady ? .ok : .serviceUnavailable)
        }
        if alive {
            router.get("healthz") { _, _ -> Response in
                Self.text("{\"status\":\"alive\"}", status: .ok, contentType: "application/json; charset=utf-8")
            }
        }
    }

    static func text(_ text: String, status: HTTPResponse.Status, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(
            status: status,
            headers: [.contentType: contentType, .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }
}
