import AMQPClient
import Logging
import NIOConcurrencyHelpers
import Testing
import WarrenServices

/// ``RoleService``'s first connection, against a port where nothing listens: no broker needed.
@Suite struct RoleServiceFirstConnectionTests {
    /// Connections here are refused at once.
    let nowhere = AMQPConfiguration(host: "127.0.0.1", port: 1, connectionTimeout: .seconds(2))

    /// A role that would return at once; it never gets a connection here.
    struct Idle: WarrenRole {
        let name = "idle"
        func run(on connection: AMQPConnection) async throws {}
    }

    @Test func aRoleFailsWhenItsFirstConnectionFails() async {
        let service = RoleService(role: Idle(), amqp: self.nowhere, logger: Logger(label: "test"))
        await #expect(throws: (any Error).self) { try await service.run() }
    }

    /// A role tries again at least every 2 s however long the broker was away, so it is back
    /// soon after the broker is (the library's own default waits up to 30 s).
    @Test func rolesReconnectWithWaitsOfAtMostTwoSeconds() {
        let service = RoleService(role: Idle(), amqp: self.nowhere, logger: Logger(label: "test"))
        #expect(service.policy == .roles)
        let waits = (0..<20).map { service.policy.delay(attempt: $0, random: 0) }
        #expect(waits.first == .milliseconds(100))
        #expect(waits.max() == .seconds(2))
        #expect(AMQPRecoveryPolicy().delay(attempt: 19, random: 0) == .seconds(30))
    }

    @Test func withFirstConnectionRetryTheServiceWaitsForTheBrokerUntilStopped() async throws {
        let steady = AMQPRecoveryPolicy(initialDelay: .milliseconds(10), maxDelay: .milliseconds(10), jitter: 0)
        let service = RoleService(role: Idle(), amqp: self.nowhere, logger: Logger(label: "test"), firstConnectionRetry: steady)
        let ended = NIOLockedValueBox(false)
        let running = Task {
            defer { ended.withLockedValue { $0 = true } }
            try await service.run()
        }
        // Many refused attempts' worth of time: a service that failed on the first would be over.
        try await Task.sleep(for: .milliseconds(200))
        #expect(!ended.withLockedValue { $0 })
        running.cancel()
        // Stopped, not failed: the refused attempts were waited out, not thrown.
        try await running.value
    }
}
