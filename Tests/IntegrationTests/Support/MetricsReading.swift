import CoreMetrics
import WarrenOps

/// Figures read back from a registry's Prometheus text, for tests that watch a metric move.
struct MetricsReading {
    /// Every sample line: its name, labels and value.
    let samples: [(name: String, labels: [String: String], value: Double)]

    /// Reads `factory`'s registry now.
    init(_ factory: WarrenMetricsFactory) {
        self.init(parsing: factory.registry.emitToString())
    }

    /// Reads the text format: `name{a="x",b="y"} value` lines; comments skipped.
    init(parsing text: String) {
        var samples: [(String, [String: String], Double)] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                samples.append((String(series), [:], value))
                continue
            }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            samples.append((String(series[..<brace]), labels, value))
        }
        self.samples = samples
    }

    /// The sum of the samples named `name` whose labels include `labels` (0 when there are none).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        self.samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }.map(\.value).reduce(0, +)
    }

    /// Whether any sample is named `name`.
    func has(_ name: String) -> Bool {
        self.samples.contains { $0.name == name }
    }
}
