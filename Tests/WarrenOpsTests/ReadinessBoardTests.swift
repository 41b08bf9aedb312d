import CoreMetrics
import Testing
import WarrenOps

@Suite("/readyz's board")
struct ReadinessBoardTests {
    @Test("A role is ready once connected, not while it reconnects; a reconnect is counted")
    func roles() async {
        let board = ReadinessBoard()
        let factory = WarrenMetricsFactory()
        await withMetricsFactory(factory) {
            #expect(await board.report().isReady, "nothing enrolled: ready")
            let login = board.enroll("login")
            #expect(await board.report().isReady == false)
            login.connected()
            #expect(await board.report().isReady)
            #expect(await board.report().roles == [.init(role: "login", connected: true)])
            login.disconnected()
            #expect(await board.report().status == "not ready")
            login.connected()
            #expect(await board.report().isReady)
            login.leave()
            #expect(await board.report().roles.isEmpty)
        }
        let text = factory.registry.emitToString()
        #expect(text.contains(#"warren_broker_reconnects_total{role="login"} 1"#), "\(text)")
        #expect(text.contains(#"warren_broker_connected{role="login"} 1"#))
    }

    @Test("A failing or slow check makes the process not ready, with the reason")
    func checks() async {
        struct Down: Error, CustomStringConvertible { var description: String { "the store is down" } }
        let board = ReadinessBoard()
        board.addCheck("store") {}
        #expect(await board.report().isReady)
        board.addCheck("store") { throw Down() }
        let report = await board.report()
        #expect(!report.isReady)
        #expect(report.checks.first?.error == "the store is down")
        board.addCheck("store", timeout: .milliseconds(50)) { try await Task.sleep(for: .seconds(30)) }
        #expect(await board.report().isReady == false)
        board.removeCheck("store")
        #expect(await board.report().isReady)
    }
}
