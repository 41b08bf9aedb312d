import Testing

@testable import WarrenServices

@Suite struct ReconnectStateTests {
    @Test func theFirstAttemptOfAllFailsTheService() {
        var state = ReconnectState()
        #expect(state.connectFailed() == nil)
        #expect(!state.everConnected)
    }

    @Test func aServiceThatWaitsForTheBrokerRetriesTheFirstConnection() {
        var state = ReconnectState(retriesFirstConnection: true)
        #expect(state.connectFailed() == 1)
        #expect(state.connectFailed() == 2)
        #expect(!state.everConnected)
        // Still the first connection, not a reconnection.
        #expect(state.connected() == nil)
        #expect(state.failures == 0)
        state.lost()
        #expect(state.connectFailed() == 1)
    }

    @Test func theFirstConnectionIsNotAReconnection() {
        var state = ReconnectState()
        #expect(state.connected() == nil)
        #expect(state.everConnected)
    }

    @Test func afterALossFailedAttemptsBackOffMoreAndTheReconnectionCountsThem() {
        var state = ReconnectState()
        _ = state.connected()
        state.lost()
        #expect(state.connectFailed() == 1)
        #expect(state.connectFailed() == 2)
        #expect(state.connectFailed() == 3)
        // Three refused, the fourth got through.
        #expect(state.connected() == 4)
        #expect(state.failures == 0)
    }

    @Test func aReconnectionAtTheFirstTryTakesOneAttemptAndCountsStartAfresh() {
        var state = ReconnectState()
        _ = state.connected()
        state.lost()
        #expect(state.connected() == 1)
        state.lost()
        #expect(state.connectFailed() == 1)
        #expect(state.connected() == 2)
    }
}
