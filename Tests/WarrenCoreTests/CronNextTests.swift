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

    @Test("impossible dates give nil, quickly", arguments: ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *"])
    func impossible(expression: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(schedule.next(after: at("2026-11-23T11:20:00.000Z")) == nil)
        }
        #expect(elapsed < .seconds(1))
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
