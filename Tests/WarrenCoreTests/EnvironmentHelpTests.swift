import Testing

@testable import WarrenCore

@Suite("The environment part of --help")
struct EnvironmentHelpTests {
    @Test("every default shown is the one the configuration uses")
    func defaultsComeFromTheConfiguration() {
        let help = EnvironmentHelp.lines(ConfigurationKey.allCases.filter { !$0.isSecret }.map { EnvironmentHelp.Entry($0, "what it does") })
        for key in ConfigurationKey.allCases where !key.isSecret {
            #expect(help.contains("[\(key.defaultValue)]"), "\(key.rawValue)")
        }
    }

    @Test("names in one column, the default on the last line, or on its own when it does not fit")
    func layout() {
        let help = EnvironmentHelp.lines([
            .init(.prefix, "prefix of broker names"),
            .init(.amqpURL, "the broker that every role\nconnects to"),
            .init(.authKey, "token signing key", shownDefault: "unset: kept in a file"),
        ])
        let lines = help.split(separator: "\n").map(String.init)
        #expect(lines == [
            "  WARREN_PREFIX            prefix of broker names [\(Topology.defaultPrefix)]",
            "  WARREN_AMQP_URL          the broker that every role",
            "                           connects to",
            "                           [\(ConfigurationKey.amqpURL.defaultValue)]",
            "  WARREN_AUTH_KEY          token signing key [unset: kept in a file]",
        ])
        #expect(lines.allSatisfy { $0.count <= EnvironmentHelp.width })
    }
}
