import AMQPClient
import AMQPProtocol
import Foundation
import NIOCore
import Testing
import WarrenCore
import WarrenServices

/// Many tabs signing in at once, as after a broker restart: the login service answers them all,
/// keeps consuming, and a login it cannot finish is answered, never left hanging.
@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatLoginStormTests {
    /// Stop 13's wedge: 500 tabs at once stopped the login service for good (its consumer held
    /// the prefetch of 256 while its loop waited for a confirm that was never read). Here 400 new
    /// tabs arrive at once, 100 of which give up before their reply (their reply queue goes with
    /// their connection); every one of the other 300 gets its queue, and the service goes on.
    @Test func hundredsOfNewTabsAtOnceAreAllAnsweredThoughSomeGaveUp() async throws {
        try await withSQLiteStore { store in
            try await ChatHarness.with(timeout: 150) { chat in
                try await chat.start(chat.login())
                try await chat.startHistory(store: store.events)
                let waiting = 300
                let quitting = 100

                let quitters = try await AMQPConnection.connect(configuration: chat.amqp)
                let quitChannel = try await quitters.openChannel()
                let gone = try await quitChannel.queueDeclare("", exclusive: true, autoDelete: true).queue

                let channel = try await chat.connection.openChannel()
                try await channel.confirmSelect()
                let replies = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
                let consumer = try await channel.consume(queue: replies, noAck: true)

                var sessions: [String: String] = [:]  // correlation id → session
                var sent: [AMQPPendingPublish] = []
                for index in 0..<(waiting + quitting) {
                    let session = ChatHarness.randomSession()
                    // Half say they are new (no broker question), half say nothing (asked).
                    let request = LoginRequest(action: .login, login: "storm\(index % 50)", session: session, resume: index % 2 == 0 ? false : nil)
                    let body = ByteBuffer(bytes: request.encode())
                    if index % 4 == 3 {
                        // The quitters do not wait for the broker's answer either.
                        _ = quitChannel.startPublish(
                            body: body, routingKey: chat.topology.login, properties: BasicProperties(contentType: "application/json", replyTo: gone)
                        )
                    } else {
                        let id = "storm-\(index)"
                        sessions[id] = session
                        sent.append(
                            channel.startPublish(
                                body: body, routingKey: chat.topology.login,
                                properties: BasicProperties(contentType: "application/json", correlationID: id, replyTo: replies)
                            )
                        )
                    }
                }
                try await quitters.close()  // the quitters give up before any reply
                for publish in sent { try await publish.confirmed() }
                #expect(sessions.count == waiting)

                var answered: [String: LoginReply] = [:]
                let expected = sessions
                try await withDeadline(.seconds(TestPatience.scaled(60)), "\(waiting) login replies") {
                    var collected: [String: LoginReply] = [:]
                    for try await delivery in consumer {
                        guard let id = delivery.properties.correlationID, expected[id] != nil else { continue }
                        collected[id] = try LoginReply.decode(delivery.body.readableBytesView)
                        if collected.count == waiting { break }
                    }
                    return collected
                }.forEach { answered[$0.key] = $0.value }
                #expect(answered.count == waiting)
                for (id, reply) in answered {
                    #expect(reply.ok, "\(id): \(reply.code ?? "") \(reply.error ?? "")")
                    #expect(reply.session == sessions[id])
                }
                // Every request was taken, the quitters' too, and the service still serves.
                try await eventually("the login queue to drain", within: 30) {
                    try await chat.messageCount(chat.topology.login) == 0
                }
                let late = try await chat.tab("latecomer")
                #expect(late.queue.hasPrefix(chat.topology.userQueue(login: "latecomer", session: "")))
            }
        }
    }

    /// A login that cannot finish in its bound (here a step of it hangs) is answered with
    /// `service.busy`, and the service goes on serving the logins behind it; the request is
    /// taken off the queue, not left unacknowledged.
    @Test func aLoginThatRunsOutOfTimeIsAnsweredAndTheServiceGoesOn() async throws {
        try await ChatHarness.with(timeout: 90) { chat in
            let login = LoginRole(
                configuration: chat.configuration, logger: chat.logger, loginTimeout: .seconds(TestPatience.scaled(2)),
                beforeHandling: { request in
                    if request.login == "stuck" { try await Task.sleep(for: .seconds(600)) }
                }
            )
            try await chat.start(login)
            let channel = try await chat.connection.openChannel()
            try await channel.confirmSelect()
            let stuck = try await chat.request(LoginRequest(action: .login, login: "stuck", session: ChatHarness.randomSession()), on: channel)
            #expect(!stuck.ok)
            #expect(stuck.code == Refusal.Code.serviceBusy.rawValue, "\(stuck)")
            let after = try await chat.tab("after")
            #expect(after.queue == chat.topology.userQueue(login: "after", session: after.session))
            try await eventually("the stuck request to be taken off the queue") {
                try await chat.messageCount(chat.topology.login) == 0
            }
        }
    }
}
