import AMQPClient
import AMQPProtocol
import Foundation
import NIOCore
import Testing

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct AMQPClientMessagingTests {
    @Test func declareBindPublishConsumeRoundTrip() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let exchange = AMQPTestSupport.uniqueName("direct")
            try await channel.exchangeDeclare(exchange, type: "direct", autoDelete: true)
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            try await channel.queueBind(queue: queue, exchange: exchange, routingKey: "greeting")
            let consumer = try await channel.consume(queue: queue)
            let properties = BasicProperties(contentType: "text/plain", headers: ["x-from": .string("test")], messageID: "m1")
            try await channel.publish("hello", exchange: exchange, routingKey: "greeting", properties: properties)
            var iterator = consumer.makeAsyncIterator()
            let delivery = try #require(try await iterator.next())
            #expect(delivery.bodyString == "hello")
            #expect(delivery.exchange == exchange)
            #expect(delivery.routingKey == "greeting")
            #expect(delivery.properties.contentType == "text/plain")
            #expect(delivery.properties.messageID == "m1")
            #expect(delivery.properties.headers?["x-from"]?.stringValue == "test")
            #expect(!delivery.redelivered)
            try await delivery.ack()
            try await consumer.cancel()
            #expect(try await iterator.next() == nil)
        }
    }

    @Test func tenThousandConfirmedMessagesNoneLostNoneDuplicated() async throws {
        let count = 10_000
        try await AMQPTestSupport.withConnection(timeout: 40) { connection in
            let publisher = try await connection.openChannel()
            let consumerChannel = try await connection.openChannel()
            let queue = try await publisher.queueDeclare("", exclusive: true).queue
            try await publisher.confirmSelect()
            try await consumerChannel.basicQos(prefetchCount: 200)
            let consumer = try await consumerChannel.consume(queue: queue)

            async let published: Void = withThrowingTaskGroup(of: Void.self) { group in
                // Several publishers in flight at once, each in order; every publish returns on its ack.
                for lane in 0..<32 {
                    group.addTask {
                        for index in stride(from: lane, to: count, by: 32) {
                            try await publisher.publish(body: ByteBuffer(integer: UInt32(index)), routingKey: queue)
                        }
                    }
                }
                try await group.waitForAll()
            }

            var seen = [Bool](repeating: false, count: count)
            var received = 0
            var duplicates = 0
            for try await delivery in consumer {
                let index = Int(try #require(delivery.body.getInteger(at: delivery.body.readerIndex, as: UInt32.self)))
                if seen[index] { duplicates += 1 }
                seen[index] = true
                received += 1
                if received % 50 == 0 {
                    try await delivery.ack(multiple: true)
                }
                if received == count { break }
            }
            try await published
            #expect(received == count)
            #expect(duplicates == 0)
            #expect(seen.allSatisfy { $0 })
        }
    }

    @Test func fiveMegabyteMessageRoundTrip() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            // 5 MiB of 4 KiB chunks, each stamped with its index, so a lost, repeated or
            // reordered frame shows.
            let chunk = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var body = ByteBuffer()
            body.reserveCapacity(5 * 1024 * 1024)
            for index in 0..<1280 {
                body.writeBytes(chunk)
                body.setInteger(UInt32(index), at: body.writerIndex - 4096)
            }
            try await channel.confirmSelect()
            try await channel.publish(body: body, routingKey: queue)
            let consumer = try await channel.consume(queue: queue, noAck: true)
            var iterator = consumer.makeAsyncIterator()
            let delivery = try #require(try await iterator.next())
            #expect(delivery.body.readableBytes == body.readableBytes)
            let identical = delivery.body.withUnsafeReadableBytes { received in
                body.withUnsafeReadableBytes { sent in
                    received.count == sent.count && memcmp(received.baseAddress!, sent.baseAddress!, sent.count) == 0
                }
            }
            #expect(identical)
        }
    }

    @Test func emptyBody() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            try await channel.confirmSelect()
            try await channel.publish(body: ByteBuffer(), routingKey: queue, properties: BasicProperties(type: "empty"))
            let got = try #require(try await channel.get(queue: queue, noAck: true))
            #expect(got.delivery.body.readableBytes == 0)
            #expect(got.delivery.properties.type == "empty")
        }
    }

    @Test func mandatoryPublishToNowhereIsReturned() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            try await channel.confirmSelect()
            try await channel.publish("lost?", routingKey: AMQPTestSupport.uniqueName("nowhere"), mandatory: true)
            var returns = channel.returns.makeAsyncIterator()
            let returned = try #require(await returns.next())
            #expect(returned.replyCode == 312)
            #expect(returned.replyText == "NO_ROUTE")
            #expect(String(buffer: returned.body) == "lost?")
        }
    }

    @Test func deletingTheQueueEndsTheConsumerWithConsumerCancelled() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare(AMQPTestSupport.uniqueName("doomed"), autoDelete: false).queue
            let consumer = try await channel.consume(queue: queue)
            let other = try await connection.openChannel()
            try await other.queueDelete(queue)
            let error = await #expect(throws: AMQPError.self) {
                for try await _ in consumer {}
            }
            #expect(error?.code == .consumerCancelled)
            #expect(channel.closeReason == nil)
            // The channel itself stays open.
            _ = try await channel.queueDeclare("", exclusive: true)
        }
    }

    @Test func channelCloseByBrokerEndsConsumerWithTheChannelError() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            let consumer = try await channel.consume(queue: queue)
            await #expect(throws: AMQPError.self) {
                try await channel.queueDeclare(AMQPTestSupport.uniqueName("missing"), passive: true)
            }
            let error = await #expect(throws: AMQPError.self) {
                for try await _ in consumer {}
            }
            #expect(error?.code == .notFound)
        }
    }

    @Test func basicGetEmptyAndNonEmpty() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            #expect(try await channel.get(queue: queue) == nil)
            try await channel.confirmSelect()
            try await channel.publish("one", routingKey: queue)
            try await channel.publish("two", routingKey: queue)
            let first = try #require(try await channel.get(queue: queue))
            #expect(first.delivery.bodyString == "one")
            #expect(first.messageCount == 1)
            try await first.delivery.ack()
            let second = try #require(try await channel.get(queue: queue))
            #expect(second.delivery.bodyString == "two")
            try await second.delivery.reject(requeue: false)
            #expect(try await channel.get(queue: queue) == nil)
            #expect(try await channel.queueDeclare(queue, passive: true).messageCount == 0)
        }
    }

    @Test func purgeAndDeleteReportCounts() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare(AMQPTestSupport.uniqueName("counts")).queue
            try await channel.confirmSelect()
            for index in 0..<3 { try await channel.publish("m\(index)", routingKey: queue) }
            #expect(try await channel.queuePurge(queue) == 3)
            try await channel.publish("last", routingKey: queue)
            #expect(try await channel.queueDelete(queue) == 1)
        }
    }

    @Test func rpcOverDirectReplyTo() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let serverChannel = try await connection.openChannel()
            let requests = try await serverChannel.queueDeclare("", exclusive: true).queue
            let server = try await serverChannel.consume(queue: requests, noAck: true)
            let responder = Task {
                for try await request in server {
                    guard let replyTo = request.properties.replyTo else { continue }
                    let text = request.bodyString
                    if text == "ignore me" { continue }
                    try await serverChannel.publish(
                        "reply to \(text)",
                        routingKey: replyTo,
                        properties: BasicProperties(correlationID: request.properties.correlationID)
                    )
                }
            }
            defer { responder.cancel() }

            let client = try await AMQPRPCClient.make(connection: connection)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let reply = try await client.call(body: ByteBuffer(string: "call \(index)"), routingKey: requests, timeout: .seconds(5))
                        #expect(reply.bodyString == "reply to call \(index)")
                    }
                }
                try await group.waitForAll()
            }
            let error = await #expect(throws: AMQPError.self) {
                _ = try await client.call(body: ByteBuffer(string: "ignore me"), routingKey: requests, timeout: .milliseconds(200))
            }
            #expect(error?.code == .timeout)
            // The client still works after a timeout.
            let reply = try await client.call(body: ByteBuffer(string: "again"), routingKey: requests, timeout: .seconds(5))
            #expect(reply.bodyString == "reply to again")
            try await client.close()
        }
    }
}

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct AMQPClientFlowTests {
    @Test func noAckConsumerWithASmallBufferLosesNothing() async throws {
        try await AMQPTestSupport.withTimeout(30) {
            var configuration = try AMQPTestSupport.configuration()
            configuration.consumerBufferSize = 8
            let connection = try await AMQPConnection.connect(configuration: configuration)
            defer { Task { try? await connection.close() } }
            let channel = try await connection.openChannel()
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            try await channel.confirmSelect()
            let count = 2_000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<16 {
                    group.addTask {
                        for index in stride(from: lane, to: count, by: 16) {
                            try await channel.publish(body: ByteBuffer(integer: UInt32(index)), routingKey: queue)
                        }
                    }
                }
                try await group.waitForAll()
            }
            // The broker pushes everything at once; the client stops reading while the
            // 8-message buffer is full and resumes as the loop drains it.
            let consumer = try await channel.consume(queue: queue, noAck: true)
            var seen = Set<UInt32>()
            for try await delivery in consumer {
                seen.insert(try #require(delivery.body.getInteger(at: delivery.body.readerIndex, as: UInt32.self)))
                if seen.count % 500 == 0 { try await Task.sleep(for: .milliseconds(50)) }
                if seen.count == count { break }
            }
            #expect(seen.count == count)
            try await connection.close()
        }
    }

    @Test func heartbeatsKeepAnIdleConnectionOpen() async throws {
        try await AMQPTestSupport.withTimeout(15) {
            var configuration = try AMQPTestSupport.configuration()
            // 2 s, not 1 s: with the whole suite running in parallel on two cores the broker
            // was once silent for 2 s, which at 1 s is two missed intervals (a dead peer).
            configuration.heartbeat = 2
            let connection = try await AMQPConnection.connect(configuration: configuration)
            #expect(connection.heartbeat == 2)
            // Idle for more than three intervals.
            try await Task.sleep(for: .milliseconds(7_000))
            #expect(connection.isActive)
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("", exclusive: true)
            try await connection.close()
        }
    }
}

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct AMQPClientValidationTests {
    @Test func tooLongNamesFailOnTheClientAndTheChannelGoesOn() async throws {
        try await AMQPTestSupport.withConnection { connection in
            let channel = try await connection.openChannel()
            let long = String(repeating: "q", count: 256)
            await #expect(throws: AMQPError.self) { try await channel.queueDeclare(long) }
            try await channel.confirmSelect()
            await #expect(throws: AMQPError.self) { try await channel.publish("x", routingKey: long) }
            // Neither took a reply slot nor a delivery tag: the channel still works and confirms line up.
            let queue = try await channel.queueDeclare("", exclusive: true).queue
            try await channel.publish("ok", routingKey: queue)
            #expect(try await channel.get(queue: queue, noAck: true)?.delivery.bodyString == "ok")
        }
    }
}
