/// The environment part of a subcommand's `--help`: a line per variable with what it does and,
/// in brackets, its default, read from ``ConfigurationKey`` so the help cannot drift from what
/// the configuration really uses.
public enum EnvironmentHelp {
    /// One variable in the help.
    public struct Entry: Sendable {
        /// The variable.
        public let key: ConfigurationKey
        /// What it does; lines after the first go under it.
        public let text: String
        /// Words in place of the default, or nil to show ``ConfigurationKey/defaultValue``.
        public let shownDefault: String?

        /// `key`, what it does (`text`; lines after the first go under it), and its default, or
        /// `shownDefault` where the default needs words.
        public init(_ key: ConfigurationKey, _ text: String, shownDefault: String? = nil) {
            self.key = key
            self.text = text
            self.shownDefault = shownDefault
        }
    }

    /// The widest line the default is appended to before it gets a line of its own (help is
    /// wrapped at 80 columns).
    public static let width = 78

    /// The entries, names in one column (at least 25 wide), each indented by two spaces.
    public static func lines(_ entries: [Entry]) -> String {
        let column = max(25, (entries.map(\.key.rawValue.count).max() ?? 0) + 1)
        let indent = String(repeating: " ", count: 2 + column)
        return entries.map { entry in
            var lines = entry.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let shown = "[\(entry.shownDefault ?? entry.key.defaultValue)]"
            if indent.count + lines[lines.count - 1].count + 1 + shown.count <= Self.width {
                lines[lines.count - 1] += " " + shown
            } else {
                lines.append(shown)
            }
            let name = "  " + entry.key.rawValue + String(repeating: " ", count: column - entry.key.rawValue.count)
            return ([name + lines[0]] + lines.dropFirst().map { indent + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// The variables every role reads.
    public static let common: [Entry] = [
        Entry(.amqpURL, "broker"),
        Entry(.prefix, "prefix of broker names"),
        Entry(.logLevel, "default of --log-level"),
        Entry(.logFormat, "text, or json: one JSON object a line"),
        Entry(.metricsPort, "port of /metrics, /readyz, /healthz; off: none"),
    ]
}
