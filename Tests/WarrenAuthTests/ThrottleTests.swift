import Testing
@testable import WarrenAuth

@Suite("Sign-in throttle")
struct ThrottleTests {
    @Test func fiveFailuresAMinuteBlockUntilTheWindowEnds() {
        var table = ThrottleTable(limit: 5, window: 60)
        for second in 0..<5 {
            #expect(table.retryAfter("alice", now: 1000 + Int64(second)) == nil)
            table.record("alice", now: 1000 + Int64(second))
        }
        #expect(table.retryAfter("alice", now: 1005) == 55)
        #expect(table.retryAfter("alice", now: 1059) == 1)
        #expect(table.retryAfter("alice", now: 1060) == nil)
        #expect(table.retryAfter("bob", now: 1005) == nil, "other keys are not affected")
    }

    @Test func aNewWindowStartsAfterTheOldOneEnds() {
        var table = ThrottleTable(limit: 2, window: 10)
        table.record("k", now: 0)
        table.record("k", now: 20)
        #expect(table.retryAfter("k", now: 21) == nil, "one failure in the new window")
        table.record("k", now: 22)
        #expect(table.retryAfter("k", now: 23) == 7)
    }

    @Test func memoryStaysBoundedUnderAFloodOfKeys() {
        var table = ThrottleTable(limit: 5, window: 60, capacity: 100)
        for index in 0..<10_000 { table.record("key\(index)", now: 0) }
        #expect(table.count <= 100)
    }

    @Test func recentlySeenKeysSurviveTheFlood() {
        var table = ThrottleTable(limit: 1, window: 60, capacity: 100)
        table.record("attacker", now: 0)
        for index in 0..<1_000 {
            table.record("noise\(index)", now: 0)
            // Each attempt of the attacker touches its entry and keeps it young.
            #expect(table.retryAfter("attacker", now: 1) != nil, "after \(index) other keys")
        }
    }

    @Test func theThrottleCountsPerNameWithoutCaseAndPerAddress() {
        let throttle = LoginThrottle(limit: 3, window: 60)
        for _ in 0..<3 { throttle.recordFailure(name: "Alice", address: "10.0.0.1", now: 0) }
        #expect(throttle.retryAfter(name: "alice", address: "10.0.0.2", now: 1) == 59, "by name, any case")
        #expect(throttle.retryAfter(name: "carol", address: "10.0.0.1", now: 1) == 59, "by address")
        #expect(throttle.retryAfter(name: "carol", address: "10.0.0.2", now: 1) == nil)
        throttle.recordSuccess(name: "ALICE")
        #expect(throttle.retryAfter(name: "alice", address: "10.0.0.2", now: 1) == nil, "success clears the name")
    }

    @Test func revokedFamiliesAreForgottenAfterTheirTokensExpire() {
        let revoked = RevokedFamilies(capacity: 2)
        revoked.revoke("a", until: 100, now: 0)
        #expect(revoked.isRevoked("a", now: 99))
        #expect(!revoked.isRevoked("a", now: 100))
        revoked.revoke("b", until: 200, now: 0)
        revoked.revoke("c", until: 300, now: 0)
        #expect(revoked.isRevoked("c", now: 1))
        #expect(revoked.isRevoked("b", now: 1))
        #expect(!revoked.isRevoked("a", now: 1), "the soonest to expire went first")
    }
}

@Suite("Registration throttle")
struct RegistrationThrottleTests {
    @Test func anAddressGetsItsShareAMinuteAndRefusalsAreNotCounted() {
        let throttle = RegistrationThrottle(perAddress: 2, overall: 100, window: 60)
        #expect(throttle.admit(address: "10.0.0.1", now: 0) == nil)
        #expect(throttle.admit(address: "10.0.0.1", now: 1) == nil)
        for second in 2..<30 { #expect(throttle.admit(address: "10.0.0.1", now: Int64(second)) == 60 - Int64(second)) }
        #expect(throttle.admit(address: "10.0.0.2", now: 30) == nil, "another address")
        #expect(throttle.admit(address: "10.0.0.1", now: 60) == nil, "a new window")
    }

    @Test func everyoneTogetherHasACeiling() {
        let throttle = RegistrationThrottle(perAddress: 5, overall: 3, window: 60)
        for index in 0..<3 { #expect(throttle.admit(address: "10.0.0.\(index)", now: 10) == nil) }
        #expect(throttle.admit(address: "10.0.0.9", now: 20) == 50)
        #expect(throttle.admit(address: nil, now: 20) == 50)
        #expect(throttle.admit(address: "10.0.0.9", now: 70) == nil)
    }
}

@Suite("Once a second")
struct OncePerSecondTests {
    @Test func aFloodMakesOneLineASecondWithItsCount() {
        let log = OncePerSecond()
        #expect(log.counted(now: 10) == 1, "the first is logged at once")
        for _ in 0..<99 { #expect(log.counted(now: 10) == nil) }
        #expect(log.counted(now: 11) == 100, "the next second's line counts the quiet ones")
        #expect(log.counted(now: 11) == nil)
    }
}
