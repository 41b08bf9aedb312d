import CoreMetrics
import Prometheus

/// Warren's metrics: swift-metrics with ``WarrenMetricsFactory`` (a Prometheus registry) behind it.
///
/// The executable calls ``bootstrap()`` once; without it swift-metrics' no-op backend is in
/// effect and recording costs a lookup. A test binds its own factory for what it runs
/// (`withMetricsFactory(WarrenMetricsFactory()) { ... }`), so it sees its own figures only.
/// Every recording asks `MetricsSystem.factory` for the handler at that moment; Warren's factory
/// keeps one per family and label set, so this is a lookup, not an allocation of a metric.
public enum WarrenMetrics {
    /// Makes Warren's factory swift-metrics' backend for the whole process; call once.
    @discardableResult
    public static func bootstrap() -> WarrenMetricsFactory {
        let factory = WarrenMetricsFactory()
        MetricsSystem.bootstrap(factory)
        return factory
    }

    /// The registry behind the factory in effect (a task's own first, then the process's);
    /// nil when metrics are off.
    public static var currentRegistry: PrometheusCollectorRegistry? {
        (MetricsSystem.factory as? WarrenMetricsFactory)?.registry
    }

    /// The Prometheus text format (version 0.0.4) of the metrics in effect; nil when they are off.
    public static func exposition() -> String? {
        currentRegistry?.emitToString()
    }

    /// The content type of ``exposition()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    // MARK: Recording, for the helpers of each concern

    static func count(_ family: MetricFamily, _ labels: [(String, String)] = [], by amount: Int64 = 1) {
        MetricsSystem.factory.makeCounter(label: family.name, dimensions: labels).increment(by: amount)
    }

    static func observe(_ family: MetricFamily, _ duration: Duration, _ labels: [(String, String)] = []) {
        let (seconds, attoseconds) = duration.components
        MetricsSystem.factory.makeTimer(label: family.name, dimensions: labels)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    static func observe(_ family: MetricFamily, _ value: Double, _ labels: [(String, String)] = []) {
        MetricsSystem.factory.makeRecorder(label: family.name, dimensions: labels, aggregate: true).record(value)
    }

    static func set(_ family: MetricFamily, _ value: Double, _ labels: [(String, String)] = []) {
        MetricsSystem.factory.makeMeter(label: family.name, dimensions: labels).set(value)
    }

    static func add(_ family: MetricFamily, _ delta: Double, _ labels: [(String, String)] = []) {
        let meter = MetricsSystem.factory.makeMeter(label: family.name, dimensions: labels)
        if delta >= 0 { meter.increment(by: delta) } else { meter.decrement(by: -delta) }
    }
}
