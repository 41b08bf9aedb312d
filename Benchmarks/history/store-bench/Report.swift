import BenchStats
import Foundation

/// One write configuration's figure.
struct WriteResult {
    let store: String
    let mode: String
    let batch: Int
    let events: Int
    let seconds: Double

    var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }

    var jsonLine: String {
        "{\"bench\":\"history-store\",\"store\":\"\(store)\",\"mode\":\"\(mode)\",\"batch\":\(batch),\"events\":\(events),"
            + "\"seconds\":\(String(format: "%.3f", seconds)),\"events_per_s\":\(Int(eventsPerSecond.rounded()))}"
    }
}

/// One read operation's latency figures, in milliseconds.
struct ReadResult {
    let store: String
    let operation: String
    let tableEvents: Int
    let samples: Int
    let p50: Double
    let p99: Double
    let mean: Double

    /// The figures of `samples` (milliseconds, at least one).
    init(samples: [Double], store: String, operation: String, tableEvents: Int) {
        let sorted = samples.sorted()
        self.store = store
        self.operation = operation
        self.tableEvents = tableEvents
        self.samples = sorted.count
        self.p50 = Percentile.of(sorted, 0.50) ?? 0
        self.p99 = Percentile.of(sorted, 0.99) ?? 0
        self.mean = sorted.reduce(0, +) / Double(sorted.count)
    }

    var jsonLine: String {
        "{\"bench\":\"history-store\",\"store\":\"\(store)\",\"op\":\"\(operation)\",\"table_events\":\(tableEvents),"
            + "\"samples\":\(samples),\"p50_ms\":\(String(format: "%.3f", p50)),\"p99_ms\":\(String(format: "%.3f", p99)),"
            + "\"mean_ms\":\(String(format: "%.3f", mean))}"
    }
}

enum Report {
    static func markdown(writes: [WriteResult], reads: [ReadResult], options: BenchOptions) -> String {
        var lines = [
            "Writes (up to \(options.events) events or \(options.seconds) s per row; one writer, as the history role):",
            "",
            "| store | mode | batch | events | seconds | events/s | × db_direct |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for result in writes {
            let direct = writes.first { $0.store == result.store && $0.mode == "db_direct" }?.eventsPerSecond ?? 0
            let ratio = direct > 0 ? String(format: "%.1f", result.eventsPerSecond / direct) : "–"
            lines.append(
                "| \(result.store) | \(result.mode) | \(result.batch) | \(result.events) | \(String(format: "%.2f", result.seconds)) "
                    + "| \(Int(result.eventsPerSecond.rounded())) | \(ratio) |")
        }
        lines += [
            "",
            "Backfill of 50 events: `store-latest50` the store's read (JSON decoding included), "
                + "`history-rpc-latest50` the history request over the broker (barrier included), "
                + "`login-to-50th-backfilled` a login request to the 50th backfilled event in the new tab's queue:",
            "",
            "| store | read | rows in table | samples | p50 ms | p99 ms | mean ms |", "|---|---|---:|---:|---:|---:|---:|",
        ]
        for read in reads {
            lines.append(
                "| \(read.store) | \(read.operation) | \(read.tableEvents) | \(read.samples) | \(String(format: "%.3f", read.p50)) "
                    + "| \(String(format: "%.3f", read.p99)) | \(String(format: "%.3f", read.mean)) |")
        }
        return lines.joined(separator: "\n")
    }
}
