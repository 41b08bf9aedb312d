import AMQPClient
import AMQPProtocol
import CoreMetrics
import Foundation
import NIOCore
import Testing
import WarrenCore
import WarrenOps
import WarrenServices

/// The metric families of requests over the broker and of the AMQP client, against the real
/// broker: each moves when its event happens.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct OperationsRPCTests {
    @Test("RPCs (pow, backfill, history), backfills, and the AMQP client's frames and bytes move their metrics")
    func requestsMove() async throws {
        let factory = WarrenMetricsFactory()
        try await withMetricsFactory(factory) {
            try await withSQLiteStore { store in
                try await ChatHarness.with(timeout: 60) { chat in
                    let watcher = try await chat.roomWatcher()
                    try await chat.startChat()
                    try await chat.startHistory(store: store.events)
                    #expect(MetricsReading(factory).value("warren_rpc_duration_seconds_count") == 0)

                    // A login with the history role running: a backfill, asked over RPC.
                    let alice = try await chat.tab("alice")
                    try await eventually("the backfill to be timed") { MetricsReading(factory).value("warren_backfill_duration_seconds_count") == 1 }
                    #expect(MetricsReading(factory).value("warren_rpc_duration_seconds_count", ["method": "backfill", "outcome": "ok"]) == 1)

                    // !rpc: the reverser asks the PoW worker over RPC.
                    let post = try await alice.post("prove it !rpc")
                    try await watcher.first("the proof") { $0.kind == .proof && $0.clientId == post }
                    try await eventually("the pow call to be timed") {
                        MetricsReading(factory).value("warren_rpc_duration_seconds_count", ["method": "pow", "outcome": "ok"]) == 1
                    }

                    // The web role's history client.
                    let history = HistoryRPCClient(configuration: chat.configuration, logger: chat.logger)
                    try await chat.start(RoleGroup(name: "web", roles: [history]))
                    try await eventually("the history client to answer") {
                        (try? await history.ask(HistoryRequest(.latest, limit: 10, rooms: ["general"]))) != nil
                    }
                    let reading = MetricsReading(factory)
                    #expect(reading.value("warren_rpc_duration_seconds_count", ["method": "history", "outcome": "ok"]) >= 1)
                    #expect(reading.value("warren_rpc_duration_seconds_sum", ["method": "pow"]) > 0)
                    for direction in ["in", "out"] {
                        #expect(reading.value("warren_amqp_frames_total", ["direction": direction]) > 10, "frames \(direction)")
                        #expect(reading.value("warren_amqp_bytes_total", ["direction": direction]) > reading.value("warren_amqp_frames_total", ["direction": direction]) * 7, "bytes \(direction): a frame has 8 bytes of framing at least")
                    }
                }
            }
        }
    }

    @Test("Publishes awaiting their confirm raise warren_amqp_confirms_outstanding, which is 0 once confirmed")
    func confirmsOutstanding() async throws {
        let factory = WarrenMetricsFactory()
        try await withMetricsFactory(factory) {
            let connection = try await AMQPConnection.connect(configuration: try AMQPConfiguration(url: BrokerEnvironment.amqpURL.absoluteString))
            let channel = try await connection.openChannel()
            try await channel.confirmSelect()
            let queue = "ops-confirms-\(UInt32.random(in: 0...UInt32.max))"
            try await channel.queueDeclare(queue, durable: false, exclusive: true)
            #expect(MetricsReading(factory).value("warren_amqp_confirms_outstanding") == 0)
            var pending: [AMQPPendingPublish] = []
            for n in 0..<2000 {
                pending.append(channel.startPublish(body: ByteBuffer(string: "message \(n)"), routingKey: queue, properties: BasicProperties(deliveryMode: 2)))
            }
            var most = 0.0
            let deadline = ContinuousClock.now + .seconds(5)
            while most == 0, ContinuousClock.now < deadline {
                most = max(most, MetricsReading(factory).value("warren_amqp_confirms_outstanding"))
                try await Task.sleep(for: .milliseconds(1))
            }
            for publish in pending { try await publish.confirmed() }
            #expect(most > 0, "publishes were seen awaiting their confirm")
            try await eventually("every confirm counted off") { MetricsReading(factory).value("warren_amqp_confirms_outstanding") == 0 }
            try await connection.close()
        }
    }
}
