import AMQPClient
import Foundation
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenServices

/// The broker takes a post but does not confirm it in time (one queue it routes to cannot take
/// it: here a tab queue whose Erlang process is suspended; at 5,000 tabs, a node behind on its
/// writes). The login service must notice, say so in its log, and go on admitting posts once the
/// broker catches up: a post loop that waits for ever after a confirm timeout is a wedge.
@Suite(
    .serialized,
    .enabled(if: PrivateBroker.available, "no broker configured (WARREN_AMQP_URL) and not under CI, or rabbitmq-server is not installed")
)
struct ChatConfirmStallTests {
    @Test func postsGoOnAfterAConfirmTimesOut() async throws {
        try await PrivateBroker.with(ports: ChatBrokerRestartTests.ports) { broker in
            let url = try ChatBrokerRestartTests.amqpURL(of: broker)
            try await ChatHarness.with(environment: ["WARREN_AMQP_URL": url], timeout: 180) { chat in
                var amqp = chat.amqp
                amqp.requestTimeout = .seconds(2)
                let recorder = LogRecorder()
                let group = ServiceGroup(
                    services: [RoleService(role: chat.login(), amqp: amqp, logger: recorder.logger(), policy: ChatBrokerRestartTests.policy)],
                    logger: chat.logger
                )
                let running = Task { try await group.run() }
                do {
                    let alice = try await chat.tab("alice")
                    let bob = try await chat.tab("bob")
                    try await Self.queueProcess(of: bob.queue, chat: chat, broker: broker, "suspend")
                    let held = try await alice.post("held by a queue that does not answer")
                    // Well past the 2 s bound of the confirm: the service has given up on it.
                    try await Task.sleep(for: .seconds(5))
                    try await Self.queueProcess(of: bob.queue, chat: chat, broker: broker, "resume")
                    let after = try await alice.post("after the queue answers again")
                    let patience = 20.0
                    try await alice.events.first("the post held back", within: patience) { $0.clientId == held }
                    try await alice.events.first("the post after", within: patience) { $0.clientId == after }
                    try await bob.events.first("the post after, in the queue that stalled", within: patience) { $0.clientId == after }
                    #expect(
                        recorder.lines.contains { $0.contains("not confirmed") || $0.contains("did not confirm") },
                        "the login service did not log the confirm it gave up on"
                    )
                } catch {
                    try? await Self.queueProcess(of: "", chat: chat, broker: broker, "resume")
                    await group.triggerGracefulShutdown()
                    _ = try? await running.value
                    throw TestFailure("\(error)\nrole log: \(recorder.lines.suffix(30).joined(separator: "\n"))")
                }
                await group.triggerGracefulShutdown()
                try await running.value
            }
        }
    }

    /// Suspends or resumes the Erlang process of `queue` (`sys:suspend/1`, `sys:resume/1`); an
    /// empty name resumes every suspended queue process of the vhost.
    static func queueProcess(of queue: String, chat: ChatHarness, broker: PrivateBroker, _ verb: String) async throws {
        let vhost = chat.amqp.virtualHost
        let expression: String
        if queue.isEmpty {
            expression = """
                [catch sys:resume(amqqueue:get_pid(Q), 1000) || Q <- rabbit_amqqueue:list(<<"\(vhost)">>)], ok.
                """
        } else {
            expression = """
                {ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"\(vhost)">>, queue, <<"\(queue)">>)), \
                sys:\(verb)(amqqueue:get_pid(Q)).
                """
        }
        let output = try await broker.ctl(["eval", expression])
        #expect(output.contains("ok"), "rabbitmqctl eval answered: \(output)")
    }
}
