import AMQPClient
import Foundation
import ServiceLifecycle
import Testing
import WarrenCore
import WarrenServices

/// A reconnect storm: 200 tabs are signed in when the broker restarts, and all of them come back
/// at once, as every open page does. Every tab is back on its own queue, and every post made
/// before the restart, while the broker was away (held by the sender until it reconnected, as
/// the page's outbox does) and after it reaches every tab, once after dropping ids seen before.
///
/// Tabs are played over AMQP (ten "browsers" of twenty tabs, a channel per tab); the Web-STOMP
/// path at this scale is measured by `scripts/bench tabs`. Runs on the private node of
/// ``ChatBrokerRestartTests``, taking turns with it.
@Suite(
    .serialized,
    .enabled(if: PrivateBroker.available, "no broker configured (WARREN_AMQP_URL) and not under CI, or rabbitmq-server is not installed")
)
struct ChatReconnectStormTests {
    static let tabCount = 200
    static let tabsPerBrowser = 20

    @Test(arguments: ["stopped", "killed"])
    func everyTabComesBackAndEveryPostReachesEveryTabOnce(how: String) async throws {
        try await PrivateBroker.with(ports: ChatBrokerRestartTests.ports) { broker in
            let url = try ChatBrokerRestartTests.amqpURL(of: broker)
            try await ChatHarness.with(environment: ["WARREN_AMQP_URL": url], timeout: 400) { chat in
                let recorder = LogRecorder()
                let roles: [any WarrenRole] = [chat.login(), chat.reverser()]
                let group = ServiceGroup(
                    services: roles.map { RoleService(role: $0, amqp: chat.amqp, logger: recorder.logger(), policy: ChatBrokerRestartTests.policy) },
                    logger: chat.logger
                )
                let running = Task { try await group.run() }
                do {
                    try await Self.storm(how, chat: chat) {
                        if how == "killed" { try await broker.kill() } else { try await broker.stop() }
                        try await broker.start()
                    }
                } catch {
                    await group.triggerGracefulShutdown()
                    _ = try? await running.value
                    throw TestFailure("\(error)\nrole log: \(recorder.lines.suffix(30).joined(separator: "\n"))")
                }
                await group.triggerGracefulShutdown()
                try await running.value
            }
        }
    }

    static func storm(_ how: String, chat: ChatHarness, restart: @Sendable () async throws -> Void) async throws {
        let comeBack = ChatBrokerRestartTests.comeBack
        let sessions = (0..<tabCount).map { _ in ChatHarness.randomSession() }
        let logs = (0..<tabCount).map { _ in EventLog() }

        // Everyone signs in at once: new tabs.
        let browsers = try await Self.browsers(chat)
        let queues = try await bounded("\(tabCount) tabs to sign in", within: comeBack) {
            try await Self.signIn(chat, browsers: browsers, sessions: sessions, logs: logs, resume: false)
        }
        let poster = Tab(harness: chat, login: "storm0", session: sessions[0], queue: queues[0], channel: try await browsers[0].openChannel(), events: logs[0])
        try await poster.channel.confirmSelect()
        let before = try await poster.post("before the restart")
        try await Self.everyTab(logs, has: before, "the post before the restart", within: comeBack)

        try await restart()
        for browser in browsers { try? await browser.close() }

        // Every tab comes back at once on its own queue; the post made while the broker was
        // away goes out once the sender is connected again.
        let browsersAgain = try await Self.browsers(chat)
        let back = try await bounded("\(tabCount) tabs to come back (broker \(how))", within: comeBack) {
            try await Self.signIn(chat, browsers: browsersAgain, sessions: sessions, logs: logs, resume: true)
        }
        #expect(back == queues, "a tab came back on another queue")
        let channel = try await browsersAgain[0].openChannel()
        try await channel.confirmSelect()
        let poster2 = Tab(harness: chat, login: "storm0", session: sessions[0], queue: queues[0], channel: channel, events: logs[0])
        let during = try await poster2.post("held while the broker was away")
        let after = try await poster2.post("after the restart")
        for (clientId, what) in [(during, "the held post"), (after, "the post after the restart")] {
            try await Self.everyTab(logs, has: clientId, what, within: comeBack)
        }

        try await Task.sleep(for: .milliseconds(500))  // anything doubled arrives meanwhile
        for (index, log) in logs.enumerated() {
            let events = log.all
            for clientId in [during, after] {
                #expect(Set(events.filter { $0.clientId == clientId }.map(\.id)).count == 1, "tab \(index): \(clientId)")
                #expect(events.filter { $0.clientId == clientId }.count == 1, "tab \(index) got \(clientId) twice")
            }
            // Before the restart: after a kill -9 the login service's ack of the post may be
            // lost with the node, so the post is delivered again; it keeps its first event id
            // (AdmittedPosts), so the page and the store see one event.
            let ids = Set(events.filter { $0.clientId == before }.map(\.id)).count
            #expect(ids == 1, "tab \(index): the post before the restart, \(ids) event ids (broker \(how))")
        }
        for browser in browsersAgain { try? await browser.close() }
    }

    /// One connection per "browser".
    static func browsers(_ chat: ChatHarness) async throws -> [AMQPConnection] {
        var browsers: [AMQPConnection] = []
        for _ in 0..<(tabCount / tabsPerBrowser) {
            browsers.append(try await AMQPConnection.connect(configuration: chat.amqp))
        }
        return browsers
    }

    /// Signs every tab in at once and subscribes its queue (acknowledging, as the page does);
    /// returns the queues in tab order.
    static func signIn(
        _ chat: ChatHarness, browsers: [AMQPConnection], sessions: [String], logs: [EventLog], resume: Bool
    ) async throws -> [String] {
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for index in 0..<tabCount {
                group.addTask {
                    let channel = try await browsers[index / tabsPerBrowser].openChannel()
                    let request = LoginRequest(action: .login, login: "storm\(index)", session: sessions[index], resume: resume)
                    let reply = try await chat.request(request, on: channel)
                    guard reply.ok, let queue = reply.queue else { throw TestFailure("tab \(index) refused: \(reply.code ?? "") \(reply.error ?? "")") }
                    try await logs[index].consume(queue, on: channel, acknowledging: true)
                    return (index, queue)
                }
            }
            var queues = [String](repeating: "", count: tabCount)
            for try await (index, queue) in group { queues[index] = queue }
            return queues
        }
    }

    static func everyTab(_ logs: [EventLog], has clientId: String, _ what: String, within seconds: Double) async throws {
        try await eventually("\(what) in all \(logs.count) tabs", within: seconds) {
            logs.allSatisfy { $0.all.contains { $0.clientId == clientId && $0.kind == .message } }
        }
    }
}
