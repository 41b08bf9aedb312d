import Foundation
import Testing

/// Where the test broker is, from the environment `scripts/test` exports.
///
/// Integration tests run when a broker is configured (WARREN_AMQP_URL) or when the CI
/// variable is set; under CI a missing broker is a failure, never a skip.
enum BrokerEnvironment {
    static let environment = ProcessInfo.processInfo.environment

    /// True when integration tests should run.
    static var enabled: Bool { isCI || environment["WARREN_AMQP_URL"] != nil }

    static var isCI: Bool {
        guard let value = environment["CI"] else { return false }
        return !value.isEmpty && value != "0" && value.lowercased() != "false"
    }

    static var amqpURL: URL { url("WARREN_AMQP_URL", default: "amqp://warren:warren@127.0.0.1:5672/warren") }
    static var stompURL: URL { url("WARREN_STOMP_URL", default: "ws://127.0.0.1:15674/ws") }
    static var vhost: String { environment["WARREN_STOMP_VHOST"] ?? "warren" }
    /// The administrator's internal account (rabbitmq/definitions.json): not the services' account.
    static var adminLogin: String { "warren-admin" }
    static var adminPassword: String { environment["WARREN_ADMIN_PASSWORD"] ?? "admin" }

    private static func url(_ name: String, default fallback: String) -> URL {
        if environment[name] == nil, isCI {
            Issue.record("CI is set but \(name) is not: scripts/test exports it after starting the broker")
        }
        let text = environment[name] ?? fallback
        guard let url = URL(string: text) else {
            Issue.record("\(name) is not a URL: \(text)")
            return URL(string: fallback)!
        }
        return url
    }
}
