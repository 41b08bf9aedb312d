import NIOCore
import Testing

@testable import AMQPClient

/// The cluster address list and ``AMQPConnector``'s rounds, against ports where nothing listens:
/// no broker needed.
@Suite struct AMQPConnectorTests {
    @Test func aURLListGivesFailoverEndpoints() throws {
        let configuration = try AMQPConfiguration(
            urlList: "amqp://u:p@127.0.0.1:5701/w?heartbeat=5, amqp://u:p@127.0.0.1:5702/w,amqp://u:p@other:5703/w"
        )
        #expect(configuration.heartbeat == 5)
        #expect(configuration.endpoints.map(\.description) == ["127.0.0.1:5701", "127.0.0.1:5702", "other:5703"])
        #expect(configuration.aimed(at: configuration.failoverEndpoints[1]).host == "other")
        #expect(configuration.aimed(at: configuration.failoverEndpoints[1]).user == "u")
        #expect(try AMQPConfiguration(urlList: "amqp://u:p@h:1/w").failoverEndpoints.isEmpty)
    }

    @Test func aNodeListedTwiceIsOneNode() throws {
        // compose.yaml without its cluster profile names `rabbitmq` three times.
        let one = try AMQPConfiguration(urlList: "amqp://u:p@rabbitmq:5672/w,amqp://u:p@rabbitmq/w, amqp://u:p@RABBITMQ:5672/w")
        #expect(one.endpoints.map(\.description) == ["rabbitmq:5672"])
        let two = try AMQPConfiguration(urlList: "amqp://u:p@b:2/w,amqp://u:p@a:1/w,amqp://u:p@b:2/w,amqp://u:p@a:2/w")
        #expect(two.endpoints.map(\.description) == ["b:2", "a:1", "a:2"])
        // A repeated node must still agree with the first.
        #expect(throws: AMQPError.self) { try AMQPConfiguration(urlList: "amqp://u:p@h:1/w,amqp://u:q@h:1/w") }
    }

    @Test func aURLListMustAgreeOnCredentialsAndVhost() {
        #expect(throws: AMQPError.self) { try AMQPConfiguration(urlList: "amqp://u:p@h:1/w,amqp://u:q@h:2/w") }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(urlList: "amqp://u:p@h:1/w,amqp://u:p@h:2/v") }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(urlList: "amqp://u:p@h:1/w,amqps://u:p@h:2/w") }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(urlList: "amqp://u:p@h:1/w,") }
    }

    /// Three nodes where nothing listens (ports 1, 2, 3 of loopback refuse at once).
    func nowhere() -> AMQPConfiguration {
        var configuration = AMQPConfiguration(host: "127.0.0.1", port: 1, connectionTimeout: .seconds(2))
        configuration.failoverEndpoints = [.init(host: "127.0.0.1", port: 2), .init(host: "127.0.0.1", port: 3)]
        return configuration
    }

    @Test func aRoundTriesEveryNodeAndNamesEachInItsError() async throws {
        let connector = AMQPConnector(configuration: self.nowhere(), start: 1)
        #expect(connector.preferredEndpoint.port == 2)
        do {
            _ = try await connector.connectOnce()
            Issue.record("connected to nothing")
        } catch let error as AMQPError {
            #expect(error.code == .connectionFailed)
            for port in 1...3 { #expect(error.message.contains("127.0.0.1:\(port)")) }
        }
        // The next round starts after the node this one started with.
        #expect(connector.preferredEndpoint.port == 3)
    }

    @Test func aLostConnectionMovesToTheNextNode() {
        let connector = AMQPConnector(configuration: self.nowhere(), start: 2)
        #expect(connector.preferredEndpoint.port == 3)
        connector.connectionLost()
        #expect(connector.preferredEndpoint.port == 1)
        connector.connectionLost()
        #expect(connector.preferredEndpoint.port == 2)
    }

    @Test func reconnectWaitsTheBackoffBeforeEachRoundAndStopsWhenTold() async {
        let connector = AMQPConnector(configuration: self.nowhere(), start: 0)
        let policy = AMQPRecoveryPolicy(initialDelay: .milliseconds(10), maxDelay: .milliseconds(40), jitter: 0)
        var waits: [Duration] = []
        var failures: [Int] = []
        await #expect(throws: CancellationError.self) {
            _ = try await connector.reconnect(
                policy: policy, sleep: { waits.append($0) }, isStopped: { waits.count > 4 }, failed: { round, _ in failures.append(round) }
            )
        }
        #expect(waits == [.milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(40), .milliseconds(40)])
        #expect(failures == [1, 2, 3, 4])
    }
}
