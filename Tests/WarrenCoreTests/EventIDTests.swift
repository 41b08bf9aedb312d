import Foundation
import Testing
@testable import WarrenCore

@Suite("Event ids")
struct EventIDTests {
    @Test("10,000 ids in a tight loop are unique and strictly increasing")
    func strictlyIncreasing() {
        let generator = EventIDGenerator()
        var previous = generator.next()
        var seen: Set<EventID> = [previous]
        for _ in 0..<10_000 {
            let id = generator.next()
            #expect(previous < id)
            #expect(previous.rawValue < id.rawValue)
            seen.insert(id)
            previous = id
        }
        #expect(seen.count == 10_001)
    }

    @Test("within one millisecond the random part counts up; a new millisecond redraws it")
    func monotonicWithinMillisecond() {
        let now = ManualClock(1_795_432_800_123)
        let generator = EventIDGenerator(clock: { now.read() }, random: { (0xFFFF, UInt64.max - 1) })
        let first = generator.next()
        let second = generator.next()
        // The 80-bit random part is full after this one: the next carries into the timestamp.
        let third = generator.next()
        #expect(first < second && second < third)
        #expect(first.milliseconds == 1_795_432_800_123)
        #expect(second.milliseconds == 1_795_432_800_123)
        #expect(third.milliseconds == 1_795_432_800_124)
        #expect(first.rawValue.hasSuffix("ZZZZZZZZZZZZZZY"))
        #expect(second.rawValue.hasSuffix("ZZZZZZZZZZZZZZZ"))
        #expect(third.rawValue.hasSuffix("000000000000000"))
    }

    @Test("a clock that steps back does not make ids go back")
    func clockStepsBack() {
        let now = ManualClock(2_000)
        let generator = EventIDGenerator(clock: { now.read() }, random: { (0, 0) })
        let first = generator.next()
        now.set(1_000)
        let second = generator.next()
        #expect(first < second)
        #expect(second.milliseconds == 2_000)
    }

    @Test("ids sort as strings in time order across milliseconds")
    func sortsByTime() {
        let now = ManualClock(1)
        let generator = EventIDGenerator(clock: { now.advance() }, random: { (UInt16.max, UInt64.max) })
        let ids = (0..<100).map { _ in generator.next().rawValue }
        #expect(ids == ids.sorted())
    }

    @Test("layout: 26 Crockford characters; the first ten are the timestamp")
    func layout() throws {
        let id = EventID(milliseconds: 1_795_432_800_123, randomHigh: 0, randomLow: 0)
        #expect(id.rawValue.count == 26)
        #expect(id.milliseconds == 1_795_432_800_123)
        #expect(Timestamp.format(id.date) == "2026-11-23T11:20:00.123Z")
        #expect(EventID(milliseconds: 0, randomHigh: 0, randomLow: 0).rawValue == String(repeating: "0", count: 26))
        #expect(EventID(milliseconds: 0xFFFF_FFFF_FFFF, randomHigh: .max, randomLow: .max).rawValue == "7" + String(repeating: "Z", count: 25))
        #expect(EventID(milliseconds: 0, randomHigh: 0, randomLow: 1).rawValue == String(repeating: "0", count: 25) + "1")
        #expect(EventID(milliseconds: 1, randomHigh: 0, randomLow: 0).rawValue == "0000000001" + String(repeating: "0", count: 16))
        let parsed = try #require(EventID(rawValue: id.rawValue))
        #expect(parsed == id)
    }

    @Test("malformed ids are refused", arguments: ["", "01JF8Q9X3M4N5P6Q7R8S9T0V1", "01JF8Q9X3M4N5P6Q7R8S9T0V1WX", "81JF8Q9X3M4N5P6Q7R8S9T0V1W", "01JF8Q9X3M4N5P6Q7R8S9T0V1U", "01jf8q9x3m4n5p6q7r8s9t0v1w"])
    func malformed(text: String) {
        #expect(EventID(rawValue: text) == nil)
    }

    @Test("ids from many tasks at once are all distinct")
    func concurrent() async {
        let generator = EventIDGenerator()
        let ids = await withTaskGroup(of: [EventID].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<1_000).map { _ in generator.next() } }
            }
            var all: [EventID] = []
            for await batch in group {
                #expect(batch == batch.sorted())
                all += batch
            }
            return all
        }
        #expect(Set(ids).count == 8_000)
    }
}

/// A millisecond clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    // @unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: UInt64

    init(_ value: UInt64) { self.value = value }

    func read() -> UInt64 {
        lock.withLock { value }
    }

    func set(_ newValue: UInt64) {
        lock.withLock { value = newValue }
    }

    /// Moves one millisecond on and returns the new time.
    func advance() -> UInt64 {
        lock.withLock {
            value += 1
            return value
        }
    }
}
