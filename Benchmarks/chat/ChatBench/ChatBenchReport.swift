import Foundation

/// The Markdown table and the verdict on the targets, from the measured phases.
public enum ChatBenchReport {
    /// The login service may add at most this at p50 (paced load), in milliseconds.
    public static let maxAddedP50Ms = 2.0
    /// The login service must keep at least this share of the bare broker's delivery rate.
    public static let minRateRatio = 0.8

    /// The bare row a login row is compared with: same tabs, rooms, load and round.
    static func bare(for row: ChatBenchResult, in results: [ChatBenchResult]) -> ChatBenchResult? {
        results.first { $0.path == .bare && $0.tabs == row.tabs && $0.rooms == row.rooms && $0.load == row.load && $0.round == row.round }
    }

    /// "1" or "100 of 10": the rooms and the tabs in each.
    static func rooms(_ row: ChatBenchResult) -> String {
        row.rooms == 1 ? "1" : "\(row.rooms) of \(row.tabs / row.rooms)"
    }

    /// One Markdown table, a row per phase.
    public static func table(_ results: [ChatBenchResult]) -> String {
        var lines = [
            "| tabs | rooms | load | path | posts/s | deliveries/s | p50 | p99 | vs bare |",
            "|---:|---:|---|---|---:|---:|---:|---:|---|",
        ]
        for row in results {
            var versus = ""
            if row.path != .bare, let bare = bare(for: row, in: results) {
                switch row.load {
                case .paced: versus = String(format: "p50 %+.2f ms", row.p50Ms - bare.p50Ms)
                case .full: versus = bare.deliveriesPerSecond > 0 ? String(format: "%.0f%% of the rate", 100 * row.deliveriesPerSecond / bare.deliveriesPerSecond) : "n/a"
                }
            }
            if !row.isComplete {
                let reason = row.error ?? "\(row.deliveries) of \(row.expectedDeliveries) deliveries, \(row.misrouted) to tabs outside the room"
                versus += (versus.isEmpty ? "" : "; ") + "FAILED: \(reason)"
            }
            let load = row.load == .paced ? String(format: "paced %g/s", row.targetPostsPerSecond ?? 0) : "full (window \(row.window))"
            lines.append(
                "| \(row.tabs) | \(rooms(row)) | \(load) | \(row.path.rawValue) | \(number(row.postsPerSecond)) | \(number(row.deliveriesPerSecond)) | "
                    + String(format: "%.2f ms | %.2f ms", row.p50Ms, row.p99Ms) + " | \(versus) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// Where the CPU went in the full-speed phases, per post: the broker, the benchmark (poster
    /// and tabs) and the service process (the login service, or the relay on the relay path,
    /// which run in one child process); nil when no phase has CPU figures.
    public static func cpuTable(_ results: [ChatBenchResult], cores: Int) -> String? {
        let rows = results.filter { $0.load == .full && $0.cpu != nil }
        guard !rows.isEmpty else { return nil }
        func perPost(_ seconds: Double?, _ posts: Int) -> String {
            guard let seconds, posts > 0 else { return "n/a" }
            return String(format: "%.0f µs", seconds / Double(posts) * 1e6)
        }
        var lines = [
            "| tabs | rooms | full speed | path | round | \(cores) cores busy | broker CPU/post | bench CPU/post | service CPU/post |",
            "|---:|---:|---|---|---:|---:|---:|---:|---:|",
        ]
        for row in rows {
            let cpu = row.cpu!
            let busy = cpu.busy(cores: cores).map { String(format: "%.0f%%", $0 * 100) } ?? "n/a"
            let service = row.path == .login || row.path == .loginMetrics || row.path == .relay ? perPost(cpu.loginServiceSeconds, row.posts) : ""
            lines.append(
                "| \(row.tabs) | \(rooms(row)) | \(number(row.deliveriesPerSecond)) deliveries/s | \(row.path.rawValue) | \(row.round) | \(busy) | "
                    + "\(perPost(cpu.brokerSeconds, row.posts)) | \(perPost(cpu.benchSeconds, row.posts)) | \(service) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// One line per tab count and round: the targets, met or missed.
    public static func verdict(_ results: [ChatBenchResult]) -> [String] {
        results.filter { $0.path == .login && $0.load == .paced }.map { paced in
            var parts = ["\(paced.tabs) tabs" + (paced.rooms == 1 ? "" : " in \(paced.rooms) rooms of \(paced.tabs / paced.rooms)")]
            if let bare = bare(for: paced, in: results) {
                let added = paced.p50Ms - bare.p50Ms
                parts.append(String(format: "login adds %.2f ms at p50", added) + " (target ≤ \(maxAddedP50Ms) ms: \(added <= maxAddedP50Ms ? "met" : "MISSED"))")
            }
            if let full = results.first(where: { $0.path == .login && $0.load == .full && $0.tabs == paced.tabs && $0.rooms == paced.rooms && $0.round == paced.round }),
               let bare = bare(for: full, in: results), bare.deliveriesPerSecond > 0 {
                let ratio = full.deliveriesPerSecond / bare.deliveriesPerSecond
                parts.append(String(format: "keeps %.0f%% of the bare delivery rate", ratio * 100) + " (target ≥ \(Int(minRateRatio * 100))%: \(ratio >= minRateRatio ? "met" : "MISSED"))")
            }
            if let metrics = Self.metricsCost(for: paced, in: results) { parts.append(metrics) }
            return parts.joined(separator: ": ")
        }
    }

    /// What recording metrics cost the login path (`--metrics`): the paced p50 and the full-speed
    /// delivery rate of login+metrics against login, same tabs and round.
    static func metricsCost(for paced: ChatBenchResult, in results: [ChatBenchResult]) -> String? {
        func row(_ path: ChatBenchResult.Path, _ load: ChatBenchResult.Load) -> ChatBenchResult? {
            results.first { $0.path == path && $0.load == load && $0.tabs == paced.tabs && $0.round == paced.round }
        }
        guard let pacedOn = row(.loginMetrics, .paced) else { return nil }
        var text = String(format: "metrics add %.2f ms at p50", pacedOn.p50Ms - paced.p50Ms)
        if let full = row(.login, .full), let fullOn = row(.loginMetrics, .full), full.deliveriesPerSecond > 0 {
            text += String(format: " and keep %.1f%% of the login path's delivery rate", 100 * fullOn.deliveriesPerSecond / full.deliveriesPerSecond)
        }
        return text
    }

    /// A whole number with thousands separators, e.g. 12,345.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let digits = String(Int(value.rounded()))
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }
}
