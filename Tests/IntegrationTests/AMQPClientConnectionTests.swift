import AMQPClient
import AMQPProtocol
import Foundation
import Logging
import NIOCore
import Testing

/// Helpers for the AMQPClient integration suites.
enum AMQPTestSupport {
    static func configuration(user: String? = nil, password: String? = nil, vhost: String? = nil) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: BrokerEnvironment.amqpURL.absoluteString)
        if let user { configuration.user = user }
        if let password { configuration.password = password }
        if let vhost { configuration.virtualHost = vhost }
        configuration.connectionTimeout = .seconds(10)
        configuration.connectionName = "AMQPClient integration test"
        return configuration
    }

    static func connect() async throws -> AMQPConnection {
        try await AMQPConnection.connect(configuration: try self.configuration())
    }

    static func uniqueName(_ prefix: String) -> String {
        "amqpclient-test.\(prefix).\(UUID().uuidString.prefix(8))"
    }

    /// Runs `body`, failing with a timeout error if it takes longer than `seconds`.
    static func withTimeout<T: Sendable>(
        _ seconds: Double,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(TestPatience.scaled(seconds)))
                throw AMQPError(code: .timeout, message: "test step took longer than \(TestPatience.describe(seconds))")
            }
            let result = try await group.next()!
            group.cancelAll()
            return result
        }
    }

    /// Connects, runs `body`, and closes the connection whatever happens.
    static func withConnection<T: Sendable>(
        timeout: Double = 20,
        _ body: @escaping @Sendable (AMQPConnection) async throws -> T
    ) async throws -> T {
        try await self.withTimeout(timeout) {
            let connection = try await self.connect()
            do {
                let result = try await body(connection)
                try? await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }
}

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct AMQPClientConnectionTests {
    @Test func connectsNegotiatesAndCloses() async throws {
        try await AMQPTestSupport.withTimeout(10) {
            let connection = try await AMQPTestSupport.connect()
            #expect(connection.frameMax == 131_072)
            #expect(connection.heartbeat == 60)
            #expect(connection.channelMax == 2047)
            try await connection.close()
            #expect(await connection.closeReason() == nil)
            #expect(!connection.isActive)
        }
    }

    @Test func wrongPasswordIsAccessRefusedQuickly() async throws {
        let error = await #expect(throws: AMQPError.self) {
            try await AMQPTestSupport.withTimeout(10) {
                _ = try await AMQPConnection.connect(configuration: try AMQPTestSupport.configuration(password: "not-the-password"))
            }
        }
        #expect(error?.code == .accessRefused, "\(String(describing: error))")
        #expect(error?.replyCode == 403)
    }

    @Test func wrongVhostIsAClearErrorQuickly() async throws {
        let error = await #expect(throws: AMQPError.self) {
            try await AMQPTestSupport.withTimeout(10) {
                _ = try await AMQPConnection.connect(configuration: try AMQPTestSupport.configuration(vhost: "no-such-vhost"))
            }
        }
        // RabbitMQ refuses a vhost the user has no access to (or that is missing) with 530 NOT_ALLOWED.
        #expect(error?.code == .notAllowed || error?.code == .accessRefused, "\(String(describing: error))")
        #expect(error?.replyCode == 530 || error?.replyCode == 403)
    }

    @Test func nothingListeningIsConnectionFailed() async throws {
        var configuration = try AMQPTestSupport.configuration()
        configuration.port = 1
        let error = await #expect(throws: AMQPError.self) {
            _ = try await AMQPConnection.connect(configuration: configuration)
        }
        #expect(error?.code == .connectionFailed)
    }

    @Test func tlsToAPlainPortFailsQuicklyWithAClearError() async throws {
        var tls = AMQPConfiguration.TLS()
        tls.configuration.certificateVerification = .none
        var configuration = try AMQPTestSupport.configuration()
        configuration.tls = tls
        let tlsConfiguration = configuration
        let error = await #expect(throws: AMQPError.self) {
            try await AMQPTestSupport.withTimeout(10) {
                _ = try await AMQPConnection.connect(configuration: tlsConfiguration)
            }
        }
        #expect(error?.code == .connectionFailed || error?.code == .connectionClosed, "\(String(describing: error))")
    }

    @Test func channelIDsAreReusedAfterClose() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let first = try await connection.openChannel()
            let second = try await connection.openChannel()
            let third = try await connection.openChannel()
            #expect([first.id, second.id, third.id] == [1, 2, 3])
            try await second.close()
            let reused = try await connection.openChannel()
            #expect(reused.id == 2)
            try await first.close()
            try await third.close()
            let lowest = try await connection.openChannel()
            #expect(lowest.id == 1)
        }
    }

    @Test func inequivalentRedeclareClosesOnlyItsChannel() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let name = AMQPTestSupport.uniqueName("inequivalent")
            let bystander = try await connection.openChannel()
            let channel = try await connection.openChannel()
            try await channel.queueDeclare(name, autoDelete: false, arguments: ["x-expires": .int32(60_000)])
            let error = await #expect(throws: AMQPError.self) {
                try await channel.queueDeclare(name, durable: true, arguments: ["x-expires": .int32(60_000)])
            }
            #expect(error?.code == .preconditionFailed)
            #expect(error?.replyCode == 406)
            #expect(error?.classID == 50 && error?.methodID == 10)
            // The channel is gone; later calls fail with its error.
            let later = await #expect(throws: AMQPError.self) { try await channel.queuePurge(name) }
            #expect(later?.code == .preconditionFailed)
            #expect(channel.closeReason?.replyCode == 406)
            // The other channel on the same connection goes on.
            let result = try await bystander.queueDeclare(name, passive: true)
            #expect(result.queue == name)
            try await bystander.queueDelete(name)
        }
    }

    @Test func passiveDeclareOfAMissingQueueIsNotFound() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let error = await #expect(throws: AMQPError.self) {
                try await channel.queueDeclare(AMQPTestSupport.uniqueName("missing"), passive: true)
            }
            #expect(error?.code == .notFound)
            #expect(error?.replyCode == 404)
        }
    }

    @Test func exchangeTopology() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let source = AMQPTestSupport.uniqueName("source")
            let destination = AMQPTestSupport.uniqueName("destination")
            try await channel.exchangeDeclare(source, type: "topic", autoDelete: false)
            try await channel.exchangeDeclare(destination, type: "fanout")
            try await channel.exchangeBind(destination: destination, source: source, routingKey: "a.#")
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            #expect(queue.hasPrefix("amq.gen-"))
            try await channel.queueBind(queue: queue, exchange: destination)
            try await channel.publish("via two exchanges", exchange: source, routingKey: "a.b")
            var got: AMQPGetResult?
            for _ in 0..<50 where got == nil {
                got = try await channel.get(queue: queue, noAck: true)
                if got == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(got?.delivery.bodyString == "via two exchanges")
            try await channel.queueUnbind(queue: queue, exchange: destination)
            try await channel.exchangeUnbind(destination: destination, source: source, routingKey: "a.#")
            try await channel.exchangeDelete(destination)
            try await channel.exchangeDelete(source)
        }
    }
}
