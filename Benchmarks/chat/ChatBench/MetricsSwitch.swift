import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import WarrenOps

/// Warren's metrics in the login service's child process, switched on and off between phases
/// (`--metrics`): on, every recording goes to ``WarrenMetricsFactory`` (a Prometheus registry,
/// scraped every 5 s as a Prometheus server would); off, to swift-metrics' no-op handlers, what
/// a process without a backend pays. The roles ask the factory for a handler at each recording,
/// so a switch takes effect at once.
final class MetricsSwitch: MetricsFactory, Sendable {
    /// The command lines the benchmark writes to the child's standard input.
    static let onCommand = "metrics on"
    static let offCommand = "metrics off"

    private let warren = WarrenMetricsFactory()
    private let on = NIOLockedValueBox(false)

    /// Installs the switch as the process's metrics backend (off) and scrapes while it is on.
    static func install() -> MetricsSwitch {
        let factory = MetricsSwitch()
        MetricsSystem.bootstrap(factory)
        Thread.detachNewThread {
            while true {
                Thread.sleep(forTimeInterval: 5)
                if factory.isOn { _ = factory.warren.registry.emitToString() }
            }
        }
        return factory
    }

    var isOn: Bool { self.on.withLockedValue { $0 } }

    /// Takes one command line; false for a line that is not one.
    func handle(_ line: Substring) -> Bool {
        switch line {
        case Self.onCommand: self.on.withLockedValue { $0 = true }
        case Self.offCommand: self.on.withLockedValue { $0 = false }
        default: return false
        }
        return true
    }

    private var current: any MetricsFactory { self.isOn ? self.warren : NOOPMetricsHandler.instance }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        self.current.makeCounter(label: label, dimensions: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        self.current.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        self.current.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        self.current.makeMeter(label: label, dimensions: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        self.current.makeTimer(label: label, dimensions: dimensions)
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
