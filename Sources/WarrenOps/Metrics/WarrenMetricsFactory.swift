import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus

/// swift-metrics' factory for Warren: every metric goes to one Prometheus registry, with the
/// help text and buckets its ``MetricFamily`` declares.
///
/// Names from other libraries are mapped to Warren's where Warren knows them (Hummingbird's
/// `MetricsMiddleware`: `hb.requests`, `http.server.request.duration`, ... become
/// `warren_http_*` with labels `route`, `method`, `status`); any other name is used as
/// Prometheus allows it, without help text.
public struct WarrenMetricsFactory: MetricsFactory {
    /// Where the metrics are kept; ``WarrenMetrics/exposition()`` prints it.
    public let registry: PrometheusCollectorRegistry
    /// The handlers made so far, by kind, name and labels: the roles ask for a handler at every
    /// recording, and the registry's own lookup checks the name, labels and help text each time.
    private let handlers = HandlerCache()

    /// A factory over `registry` (a fresh one by default).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The handler of `kind` for `label` and `dimensions`, made by `make` the first time.
    private func cached<Handler>(_ kind: HandlerCache.Kind, _ label: String, _ dimensions: [(String, String)], _ make: () -> Handler) -> Handler {
        self.handlers.handler(HandlerCache.Key(kind: kind, label: label, dimensions: dimensions), make: make)
    }

    /// A name and labels another library gave, as Warren exports them.
    struct Resolved {
        let family: MetricFamily?
        let name: String
        let labels: [(String, String)]

        var descriptor: MetricNameDescriptor {
            MetricNameDescriptor(metricName: self.name, unitName: "", helpText: self.family?.help ?? "")
        }
    }

    /// Hummingbird's names and the families they become.
    static let renamed: [String: MetricFamily] = [
        "hb.requests": .httpRequests,
        "http.server.request.duration": .httpRequestSeconds,
        "hb.request.errors": .httpRequestErrors,
        "http.server.active_requests": .httpActiveRequests,
        "amqp.client.frames": .amqpFrames,
        "amqp.client.bytes": .amqpBytes,
        "amqp.client.confirms.outstanding": .confirmsOutstanding,
        "amqp.client.replies": .amqpReplies,
    ]

    /// Hummingbird's label names and Warren's.
    static let renamedLabels: [String: String] = [
        "http.route": "route",
        "http.request.method": "method",
        "http.response.status_code": "status",
        "error.type": "status",
    ]

    static func resolve(_ label: String, _ dimensions: [(String, String)]) -> Resolved {
        if let family = MetricFamily.named(label) {
            return Resolved(family: family, name: label, labels: dimensions)
        }
        guard let family = renamed[label] else {
            return Resolved(family: nil, name: label, labels: dimensions)
        }
        let labels = dimensions.map { (name, value) -> (String, String) in
            let renamed = renamedLabels[name] ?? name
            // Files are one route to an operator, whatever their path.
            return (renamed, renamed == "route" && value == "FileMiddleware" ? "static" : value)
        }
        return Resolved(family: family, name: family.name, labels: labels)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        self.cached(.counter, label, dimensions) { () -> any CounterHandler in
            let resolved = Self.resolve(label, dimensions)
            return self.registry.makeCounter(descriptor: resolved.descriptor, labels: resolved.labels)
        }
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        let resolved = Self.resolve(label, dimensions)
        return self.registry.makeCounter(descriptor: resolved.descriptor, labels: resolved.labels)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        self.cached(aggregate ? .histogram : .gauge, label, dimensions) { () -> any RecorderHandler in
            let resolved = Self.resolve(label, dimensions)
            guard aggregate else { return self.registry.makeGauge(descriptor: resolved.descriptor, labels: resolved.labels) }
            let buckets = resolved.family?.buckets ?? []
            return self.registry.makeValueHistogram(
                descriptor: resolved.descriptor, labels: resolved.labels, buckets: buckets.isEmpty ? Self.defaultValueBuckets : buckets
            )
        }
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        self.cached(.meter, label, dimensions) { () -> any MeterHandler in
            let resolved = Self.resolve(label, dimensions)
            return self.registry.makeGauge(descriptor: resolved.descriptor, labels: resolved.labels)
        }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        self.cached(.timer, label, dimensions) { () -> any TimerHandler in
            let resolved = Self.resolve(label, dimensions)
            let seconds = resolved.family?.buckets ?? []
            let buckets = (seconds.isEmpty ? MetricFamily.latencyBuckets : seconds).map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
            return self.registry.makeDurationHistogram(descriptor: resolved.descriptor, labels: resolved.labels, buckets: buckets)
        }
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { self.registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { self.registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { self.registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { self.registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { self.registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { self.registry.unregisterDurationHistogram(histogram) }
    }

    /// Buckets of a value histogram no family declares.
    static let defaultValueBuckets: [Double] = [1, 5, 10, 50, 100, 500, 1000, 5000, 10000]
}

/// The handlers a ``WarrenMetricsFactory`` made, so a recording finds its handler with one
/// lookup. Bounded as the labels are: one entry per family and label set.
final class HandlerCache: Sendable {
    enum Kind: UInt8, Hashable, Sendable {
        case counter, gauge, meter, histogram, timer
    }

    struct Key: Hashable, Sendable {
        let kind: Kind
        let label: String
        let dimensions: [String]

        init(kind: Kind, label: String, dimensions: [(String, String)]) {
            self.kind = kind
            self.label = label
            self.dimensions = dimensions.flatMap { [$0.0, $0.1] }
        }
    }

    /// A handler of swift-metrics (every one is Sendable; the box only holds it as `Any`).
    private struct Stored: @unchecked Sendable {
        let handler: Any
    }

    private let box = NIOLockedValueBox<[Key: Stored]>([:])

    /// The handler for `key`, made by `make` (under the lock) the first time.
    func handler<Handler>(_ key: Key, make: () -> Handler) -> Handler {
        self.box.withLockedValue { handlers in
            if let stored = handlers[key] { return stored.handler as! Handler }
            let handler = make()
            handlers[key] = Stored(handler: handler)
            return handler
        }
    }
}
