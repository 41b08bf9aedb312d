import Foundation
import Testing
@testable import WarrenCore

@Suite("Cron next fire time")
struct CronNextTests {
    func at(_ text: String) -> Date {
        Timestamp.parse(text)!
    }

    /// The next fire time as RFC 3339, or nil.
    func next(_ expression: String, after text: String, in timeZone: TimeZone = CronSchedule.utc) throws -> String? {
        try CronSchedule(parsing: expression).next(after: at(text), in: timeZone).map(Timestamp.format)
    }

    @Test("strictly after, on the whole minute", arguments: [
        ("* * * * *", "2026-11-23T11:20:00.000Z", "2026-11-23T11:21:00.000Z"),
        ("* * * * *", "2026-11-23T11:20:59.999Z", "2026-11-23T11:21:00.000Z"),
        ("* * * * *", "2026-11-23T11:19:59.999Z", "2026-11-23T11:20:00.000Z"),
        ("*/15 * * * *", "2026-11-23T11:50:00.000Z", "2026-11-23T12:00:00.000Z"),
        ("5/15 * * * *", "2026-11-23T11:36:00.000Z", "2026-11-23T11:50:00.000Z"),
        ("1-10/2 * * * *", "2026-11-23T11:09:00.000Z", "2026-11-23T12:01:00.000Z"),
    ] as [(String, String, String)])
    func minutes(expression: String, after: String, expected: String) throws {
        #expect(try next(expression, after: after) == expected)
    }

    @Test("over hour, day, month and year ends", arguments: [
        ("0 * * * *", "2026-11-23T23:30:00.000Z", "2026-11-24T00:00:00.000Z"),
        ("0 * * * *", "2026-12-31T23:30:00.000Z", "2027-01-01T00:00:00.000Z"),
        ("30 9 * * *", "2026-11-30T10:00:00.000Z", "2026-12-01T09:30:00.000Z"),
        ("0 0 1 * *", "2026-01-31T12:00:00.000Z", "2026-02-01T00:00:00.000Z"),
        ("0 0 31 * *", "2026-04-01T00:00:00.000Z", "2026-05-31T00:00:00.000Z"),
        ("0 0 31 * *", "2026-05-31T00:00:00.000Z", "2026-07-31T00:00:00.000Z"),
        ("59 23 31 12 *", "2026-12-31T23:59:00.000Z", "2027-12-31T23:59:00.000Z"),
        ("0 0 1 1 *", "2026-11-23T11:20:00.000Z", "2027-01-01T00:00:00.000Z"),
        ("0 12 * feb *", "2026-02-28T12:00:00.000Z", "2027-02-01T12:00:00.000Z"),
    ] as [(String, String, String)])
    func calendarEnds(expression: String, after: String, expected: String) throws {
        #expect(try next(expression, after: after) == expected)
    }

    @Test("February 29 finds the next leap year; 2100 is not one", arguments: [
        ("0 12 29 2 *", "2026-03-01T00:00:00.000Z", "2028-02-29T12:00:00.000Z"),
        ("0 12 29 2 *", "2028-02-29T11:59:00.000Z", "2028-02-29T12:00:00.000Z"),
        ("0 12 29 2 *", "2028-02-29T12:00:00.000Z", "2032-02-29T12:00:00.000Z"),
        ("0 0 29 2 *", "2096-02-29T00:00:00.000Z", "2104-02-29T00:00:00.000Z"),
        ("0 0 29 2 *", "2097-01-01T00:00:00.000Z", "2104-02-29T00:00:00.000Z"),
        ("0 0 29 2 *", "1999-06-01T00:00:00.000Z", "2000-02-29T00:00:00.000Z"),
        ("0 0 * * *", "2100-02-28T00:00:00.000Z", "2100-03-01T00:00:00.000Z"),
        ("0 0 * * *", "2028-02-28T00:00:00.000Z", "2028-02-29T00:00:00.000Z"),
    ] as [(String, String, String)])
    func leapDays(expression: String, after: String, expected: String) throws {
        #expect(try next(expression, after: after) == expected)
    }

    @Test("impossible dates give nil", arguments: ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *"])
    func impossible(expression: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        #expect(schedule.next(after: at("2026-11-23T11:20:00.000Z")) == nil)
    }

    @Test("day-of-month and day-of-week: either when both are restricted, both when one is *", arguments: [
        // 2026-11-10 is a Tuesday, 2026-11-13 a Friday.
        ("0 0 10 * fri", "2026-11-07T00:00:00.000Z", "2026-11-10T00:00:00.000Z"),
        ("0 0 10 * fri", "2026-11-10T00:00:00.000Z", "2026-11-13T00:00:00.000Z"),
        ("0 0 13 * fri", "2026-11-01T00:00:00.000Z", "2026-11-06T00:00:00.000Z"),
        // `*/2` counts as `*`: odd days that are also Mondays.
        ("0 0 */2 * mon", "2026-11-10T00:00:00.000Z", "2026-11-23T00:00:00.000Z"),
        ("0 0 */2 * mon", "2026-11-23T00:00:00.000Z", "2026-12-07T00:00:00.000Z"),
        ("0 0 13 * *", "2026-11-01T00:00:00.000Z", "2026-11-13T00:00:00.000Z"),
        ("0 0 * * 5", "2026-11-01T00:00:00.000Z", "2026-11-06T00:00:00.000Z"),
    ] as [(String, String, String)])
    func dayRule(expression: String, after: String, expected: String) throws {
        #expect(try next(expression, after: after) == expected)
    }

    @Test("weekday names and 0/7 for Sunday")
    func weekdays() throws {
        // 2026-11-23 is a Monday; the next Sunday is the 29th.
        #expect(try next("0 0 * * 0", after: "2026-11-23T11:20:00.000Z") == "2026-11-29T00:00:00.000Z")
        #expect(try next("0 0 * * 7", after: "2026-11-23T11:20:00.000Z") == "2026-11-29T00:00:00.000Z")
        #expect(try next("0 0 * * SUN", after: "2026-11-23T11:20:00.000Z") == "2026-11-29T00:00:00.000Z")
        #expect(try next("0 9 * JAN-mar Mon-FRI", after: "2026-11-23T11:20:00.000Z") == "2027-01-01T09:00:00.000Z")
        #expect(try next("@weekly", after: "2026-11-23T11:20:00.000Z") == "2026-11-29T00:00:00.000Z")
        #expect(try next("@hourly", after: "2026-11-23T11:20:00.000Z") == "2026-11-23T12:00:00.000Z")
        #expect(try next("@yearly", after: "2026-11-23T11:20:00.000Z") == "2027-01-01T00:00:00.000Z")
        #expect(try next("@monthly", after: "2026-11-23T11:20:00.000Z") == "2026-12-01T00:00:00.000Z")
    }

    @Test("@every fires on multiples of its interval since the epoch")
    func every() throws {
        #expect(try next("@every 1s", after: "2026-11-23T11:20:00.000Z") == "2026-11-23T11:20:01.000Z")
        #expect(try next("@every 1s", after: "2026-11-23T11:20:00.400Z") == "2026-11-23T11:20:01.000Z")
        #expect(try next("@every 5m", after: "2026-11-23T11:22:00.000Z") == "2026-11-23T11:25:00.000Z")
        #expect(try next("@every 1h30m", after: "2026-11-23T11:20:00.000Z") == "2026-11-23T12:00:00.000Z")
        let schedule = CronSchedule.everySeconds(1)
        var time = at("2026-11-23T11:20:00.250Z")
        for second in 1...5 {
            time = try #require(schedule.next(after: time))
            #expect(Timestamp.format(time) == "2026-11-23T11:20:0\(second).000Z")
            #expect(schedule.matches(time))
        }
    }

    @Test("following next(after:) walks every fire time in order")
    func walk() throws {
        let schedule = try CronSchedule(parsing: "*/20 8-9 * * *")
        var time = at("2026-11-23T07:00:00.000Z")
        var fired: [String] = []
        for _ in 0..<7 {
            time = try #require(schedule.next(after: time))
            #expect(schedule.matches(time))
            fired.append(Timestamp.format(time))
        }
        #expect(fired == [
            "2026-11-23T08:00:00.000Z", "2026-11-23T08:20:00.000Z", "2026-11-23T08:40:00.000Z",
            "2026-11-23T09:00:00.000Z", "2026-11-23T09:20:00.000Z", "2026-11-23T09:40:00.000Z",
            "2026-11-24T08:00:00.000Z",
        ])
    }

    @Test("time zones: wall-clock fields, a skipped hour does not fire, a repeated one fires once")
    func timeZones() throws {
        let amsterdam = try #require(TimeZone(identifier: "Europe/Amsterdam"))
        // CET is UTC+1 in November.
        #expect(try next("0 9 * * *", after: "2026-11-23T00:00:00.000Z", in: amsterdam) == "2026-11-23T08:00:00.000Z")
        // 2027-03-28 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that day.
        #expect(try next("30 2 * * *", after: "2027-03-27T02:00:00.000Z", in: amsterdam) == "2027-03-29T00:30:00.000Z")
        // 2026-10-25 03:00 CEST falls back to 02:00 CET: 02:30 happens twice, fires once.
        #expect(try next("30 2 * * *", after: "2026-10-24T12:00:00.000Z", in: amsterdam) == "2026-10-25T00:30:00.000Z")
        #expect(try next("30 2 * * *", after: "2026-10-25T00:30:00.000Z", in: amsterdam) == "2026-10-26T01:30:00.000Z")
        // An every-minute schedule keeps firing through the repeated hour.
        #expect(try next("* * * * *", after: "2026-10-25T00:59:00.000Z", in: amsterdam) == "2026-10-25T01:00:00.000Z")
        #expect(try next("* * * * *", after: "2027-03-28T00:59:00.000Z", in: amsterdam) == "2027-03-28T01:00:00.000Z")
    }
}

@Suite("Cron next fire time against brute force")
struct CronBruteForceTests {
    /// The first whole minute after `date` that `schedule` matches, found one minute at a time.
    func bruteForce(_ schedule: CronSchedule, after date: Date, limitMinutes: Int) -> Date? {
        var minute = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        for _ in 0..<limitMinutes {
            let candidate = Date(timeIntervalSince1970: minute)
            if schedule.matches(candidate) { return candidate }
            minute += 60
        }
        return nil
    }

    @Test("skipping search agrees with a minute-by-minute scan", arguments: [
        "*/7 * * * *", "3,58 */5 * * *", "0 0 * * 1-5", "15 10 1,15 * *", "0 0 13 * fri", "0 0 */3 * sun",
        "30 23 31 * *", "0 12 * */2 0", "5/20 7-9 29 2 *", "0 0 28-31 * *",
    ])
    func agrees(expression: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        var generator = SplitMix(seed: expression.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })
        var compared = 0
        for _ in 0..<4 {
            // A random instant in 2026-2030, not on a minute boundary.
            let start = Date(timeIntervalSince1970: 1_767_225_600 + Double(generator.next() % (4 * 365 * 86_400)) + 0.25)
            let expected = bruteForce(schedule, after: start, limitMinutes: 45 * 24 * 60)
            guard let expected else { continue }
            compared += 1
            #expect(schedule.next(after: start) == expected, "\(expression) after \(Timestamp.format(start))")
        }
        // Only the February 29 schedule may find nothing within 45 days every time.
        #expect(compared > 0 || expression.contains("29 2"))
    }

    @Test("civil dates agree with Foundation's Gregorian calendar")
    func civilDates() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = CronSchedule.utc
        var generator = SplitMix(seed: 42)
        for _ in 0..<2_000 {
            let seconds = Int(generator.next() % 8_000_000_000) - 2_000_000_000
            let civil = CivilTime(secondsSinceEpoch: seconds)
            let components = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: Date(timeIntervalSince1970: Double(seconds)))
            #expect([civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second]
                == [components.year, components.month, components.day, components.hour, components.minute, components.second])
            let days = CivilTime.daysSinceEpoch(year: civil.year, month: civil.month, day: civil.day)
            #expect(CivilTime.weekday(daysSinceEpoch: days) == components.weekday! - 1)
            #expect(civil.secondsSinceEpoch == seconds)
        }
    }
}

/// A small seeded generator so the cross-checks are repeatable.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
