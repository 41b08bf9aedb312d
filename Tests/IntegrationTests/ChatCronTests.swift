import Foundation
import Testing
import WarrenCore
import WarrenServices

@Suite(.enabled(if: BrokerEnvironment.enabled, "no broker configured (WARREN_AMQP_URL) and not under CI"))
struct ChatCronTests {
    /// `@every 1s` on a clock 10× real time: a tick every 100 ms.
    @Test func twoCronCopiesPostEachTickOnce() async throws {
        try await ChatHarness.with(environment: ["WARREN_CRON_TEXT": "Hello test!"]) { chat in
            let watcher = try await chat.roomWatcher()
            let clock = ScaledCronClock(speed: 10)
            try await chat.start(chat.cron(clock: clock))
            try await chat.start(chat.cron(clock: clock))
            try await watcher.wait("eight ticks", within: 10) { $0.count >= 8 }
            let events = watcher.all
            #expect(events.allSatisfy { $0.kind == .system && $0.from == "cron" && $0.text == "Hello test!" })
            let ticks = events.map(\.at)
            #expect(Set(ticks).count == ticks.count, "a tick was posted twice: \(ticks)")
            #expect(ticks == ticks.sorted())
            #expect(ticks.allSatisfy { $0.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) == 0 })
        }
    }

    @Test func whenTheActiveCopyGoesTheOtherTakesOver() async throws {
        try await ChatHarness.with { chat in
            let watcher = try await chat.roomWatcher()
            let clock = ScaledCronClock(speed: 10)
            let first = try await chat.start(chat.cron(clock: clock))
            try await watcher.wait("a tick", within: 10) { $0.count >= 2 }
            try await chat.start(chat.cron(clock: clock))
            try await Task.sleep(for: .milliseconds(200))
            try await first.close()
            let before = watcher.all.count
            try await watcher.wait("ticks from the second copy", within: 10) { $0.count >= before + 4 }
            let ticks = watcher.all.map(\.at)
            #expect(Set(ticks).count == ticks.count, "a tick was posted twice: \(ticks)")
        }
    }
}
