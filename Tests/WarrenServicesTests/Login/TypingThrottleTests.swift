import Testing

@testable import WarrenServices

@Suite("Typing notices per tab")
struct TypingThrottleTests {
    @Test("one notice per tab per interval; tabs do not share their turn")
    func onePerInterval() {
        let throttle = SharedTypingThrottle(interval: .seconds(3))
        let start = ContinuousClock.now
        #expect(throttle.admit("a", now: start))
        #expect(!throttle.admit("a", now: start + .seconds(1)))
        #expect(throttle.admit("b", now: start + .seconds(1)))
        #expect(!throttle.admit("a", now: start + .milliseconds(2_999)))
        #expect(throttle.admit("a", now: start + .seconds(3)))
    }
}
