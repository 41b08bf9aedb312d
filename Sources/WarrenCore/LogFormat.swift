/// How log lines are written (`WARREN_LOG_FORMAT`).
public enum LogFormat: String, CaseIterable, Sendable, Hashable {
    /// One line of text per entry, for people (swift-log's stream format).
    case text
    /// One JSON object per line, for log collectors.
    case json
}

/// Where a role run alone serves `/metrics`, `/readyz` and `/healthz` (`WARREN_METRICS_PORT`).
public enum MetricsPort: Sendable, Hashable {
    /// Not served (the default; the web role serves them on its own port anyway).
    case off
    /// On this port; 0 picks a free one.
    case port(Int)

    /// Reads `off` or a port number from 0 to 65535.
    public init?(_ text: String) {
        if text.lowercased() == "off" {
            self = .off
            return
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let port = Int(text),
            (0...65_535).contains(port)
        else { return nil }
        self = .port(port)
    }
}
