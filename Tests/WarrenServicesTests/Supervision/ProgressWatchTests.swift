import Testing

@testable import WarrenServices

struct ProgressWatchTests {
    @Test func anIdleLoopIsNeverStalled() {
        var watch = ProgressWatch(patience: .seconds(10), now: .zero)
        #expect(watch.checked(now: .seconds(100)) == .fine)
    }

    @Test func workThatWaitsWithNothingFinishedIsAStallReportedOnce() {
        var watch = ProgressWatch(patience: .seconds(10), now: .zero)
        watch.started(now: .seconds(1))
        watch.started(now: .seconds(2))
        #expect(watch.checked(now: .seconds(5)) == .fine)
        #expect(watch.checked(now: .seconds(11)) == .stalled(inFlight: 2, since: .seconds(10)))
        #expect(watch.checked(now: .seconds(20)) == .fine)  // reported already
        #expect(watch.finished(now: .seconds(21)) == .recovered(after: .seconds(20)))
        #expect(watch.checked(now: .seconds(25)) == .fine)
        #expect(watch.checked(now: .seconds(31)) == .stalled(inFlight: 1, since: .seconds(10)))
    }

    @Test func finishingWorkKeepsALoopFine() {
        var watch = ProgressWatch(patience: .seconds(10), now: .zero)
        for second in 0..<60 {
            watch.started(now: .seconds(second))
            watch.started(now: .seconds(second))
            #expect(watch.finished(now: .seconds(second)) == .fine)
            #expect(watch.checked(now: .seconds(second)) == .fine)
        }
        #expect(watch.inFlight == 60)
    }

    @Test func workStartedAfterAnIdleSpellCountsFromItsStart() {
        var watch = ProgressWatch(patience: .seconds(10), now: .zero)
        watch.started(now: .seconds(50))
        #expect(watch.checked(now: .seconds(55)) == .fine)
        #expect(watch.checked(now: .seconds(60)) == .stalled(inFlight: 1, since: .seconds(10)))
    }
}

struct KeyedTurnsTests {
    @Test func turnsOnOneKeyRunOneAtATimeInOrder() async throws {
        let turns = KeyedTurns()
        let log = TurnLog()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    await turns.run("tab") {
                        await log.enter(index)
                        try? await Task.sleep(for: .milliseconds(2))
                        await log.leave()
                    }
                }
                try? await Task.sleep(for: .milliseconds(1))  // so they ask in order
            }
        }
        #expect(await log.maxInside == 1)
        #expect(await log.order == Array(0..<20))
        #expect(await turns.busyCount == 0)
    }

    @Test func otherKeysRunBeside() async throws {
        let turns = KeyedTurns()
        let log = TurnLog()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<10 {
                group.addTask {
                    await turns.run("tab\(index)") {
                        await log.enter(index)
                        try? await Task.sleep(for: .milliseconds(50))
                        await log.leave()
                    }
                }
            }
        }
        #expect(await log.maxInside > 1)
    }
}

private actor TurnLog {
    var inside = 0
    var maxInside = 0
    var order: [Int] = []

    func enter(_ index: Int) {
        self.inside += 1
        self.maxInside = max(self.maxInside, self.inside)
        self.order.append(index)
    }

    func leave() { self.inside -= 1 }
}
