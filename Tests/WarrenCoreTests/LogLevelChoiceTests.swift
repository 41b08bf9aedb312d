import Testing

@testable import WarrenCore

@Suite("The log level a process uses")
struct LogLevelChoiceTests {
    @Test("a level set in .env is the one used")
    func fromEnvFile() throws {
        let configuration = try WarrenConfiguration.load(environment: [:], envFile: "WARREN_LOG_LEVEL=debug\n")
        #expect(configuration.logLevel(overriddenBy: nil) == .debug)
    }

    @Test("the environment wins over .env, and --log-level over both")
    func precedence() throws {
        let configuration = try WarrenConfiguration.load(
            environment: ["WARREN_LOG_LEVEL": "warning"], envFile: "WARREN_LOG_LEVEL=debug\n"
        )
        #expect(configuration.logLevel(overriddenBy: nil) == .warning)
        #expect(configuration.logLevel(overriddenBy: .trace) == .trace)
    }

    @Test("with nothing set, the default")
    func byDefault() throws {
        let configuration = try WarrenConfiguration.load(environment: [:], envFile: nil)
        #expect(configuration.logLevel(overriddenBy: nil).rawValue == ConfigurationKey.logLevel.defaultValue)
    }
}
