import Testing
@testable import WarrenCore

@Suite("Cron parsing")
struct CronParseTests {
    func fields(_ expression: String) throws -> CronFields {
        let schedule = try CronSchedule(parsing: expression)
        guard case .fields(let fields) = schedule.storage else {
            Issue.record("\(expression) is not a field schedule")
            return CronFields()
        }
        return fields
    }

    func bits(_ values: [Int]) -> UInt64 {
        values.reduce(0) { $0 | 1 << UInt64($1) }
    }

    @Test("lists, ranges and steps")
    func listsRangesSteps() throws {
        #expect(try fields("1,15,30 * * * *").minutes == bits([1, 15, 30]))
        #expect(try fields("10-13 * * * *").minutes == bits([10, 11, 12, 13]))
        #expect(try fields("*/15 * * * *").minutes == bits([0, 15, 30, 45]))
        #expect(try fields("1-10/2 * * * *").minutes == bits([1, 3, 5, 7, 9]))
        #expect(try fields("5/15 * * * *").minutes == bits([5, 20, 35, 50]))
        #expect(try fields("0 */6 * * *").hours == bits([0, 6, 12, 18]))
        #expect(try fields("0 0 1-31/10 * *").days == bits([1, 11, 21, 31]))
        #expect(try fields("0,30 8-10,20 * * *").hours == bits([8, 9, 10, 20]))
        #expect(try fields("* * * * *").minutes == (1 << 60) - 1)
    }

    @Test("month and weekday names, any case; 0 and 7 are Sunday")
    func names() throws {
        #expect(try fields("0 0 1 jan,JUN,Dec *").months == bits([1, 6, 12]))
        #expect(try fields("0 0 1 feb-apr *").months == bits([2, 3, 4]))
        #expect(try fields("0 9 * * Mon-FRI").weekdays == bits([1, 2, 3, 4, 5]))
        #expect(try fields("0 0 * * sun").weekdays == bits([0]))
        #expect(try fields("0 0 * * 0").weekdays == bits([0]))
        #expect(try fields("0 0 * * 7").weekdays == bits([0]))
        #expect(try fields("0 0 * * 5-7").weekdays == bits([0, 5, 6]))
        #expect(try fields("0 0 * * sat,sun").weekdays == bits([0, 6]))
    }

    @Test("shortcuts expand to their fields", arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"), ("@DAILY", "0 0 * * *"),
    ])
    func shortcuts(shortcut: String, expanded: String) throws {
        #expect(try fields(shortcut) == fields(expanded))
    }

    @Test("the Vixie star flags follow the first character")
    func starFlags() throws {
        let restricted = try fields("0 0 13 * fri")
        #expect(!restricted.daysStar && !restricted.weekdaysStar)
        let stepped = try fields("0 0 */2 * mon")
        #expect(stepped.daysStar && !stepped.weekdaysStar)
    }

    @Test("@every durations")
    func every() throws {
        #expect(try CronSchedule(parsing: "@every 1s").intervalSeconds == 1)
        #expect(try CronSchedule(parsing: "@every 5m").intervalSeconds == 300)
        #expect(try CronSchedule(parsing: "@every 1h30m").intervalSeconds == 5_400)
        #expect(try CronSchedule(parsing: "@EVERY 2D").intervalSeconds == 172_800)
        #expect(CronSchedule.everySeconds(1).intervalSeconds == 1)
        #expect(CronSchedule.everySeconds(7).description == "@every 7s")
        #expect(try CronSchedule(parsing: "* * * * *").intervalSeconds == nil)
    }

    @Test("errors name the field and the token", arguments: [
        ("61 * * * *", "minute", "61"),
        ("* 24 * * *", "hour", "24"),
        ("* * 0 * *", "day-of-month", "0"),
        ("* * 32 * *", "day-of-month", "32"),
        ("* * * 13 *", "month", "13"),
        ("* * * foo *", "month", "foo"),
        ("* * * * 8", "day-of-week", "8"),
        ("* * * * funday", "day-of-week", "funday"),
        ("*/0 * * * *", "minute", "*/0"),
        ("*/x * * * *", "minute", "*/x"),
        ("*/61 * * * *", "minute", "*/61"),
        ("5-1 * * * *", "minute", "5-1"),
        ("1,,2 * * * *", "minute", "1,,2"),
        ("1/2/3 * * * *", "minute", "1/2/3"),
        ("-1 * * * *", "minute", "-1"),
        ("1- * * * *", "minute", "1-"),
        ("* * * jan-foo *", "month", "jan-foo"),
        ("@every 0s", "@every", "0s"),
        ("@every 5x", "@every", "5x"),
        ("@every 10", "@every", "10"),
        ("@every s", "@every", "s"),
    ] as [(String, String, String)])
    func fieldErrors(expression: String, field: String, token: String) {
        do {
            _ = try CronSchedule(parsing: expression)
            Issue.record("\(expression) parsed")
        } catch {
            #expect(error.field == field)
            #expect(error.token == token)
            #expect(error.description.contains("\"\(token)\""))
            #expect(error.description.contains(expression))
        }
    }

    @Test("whole-expression errors", arguments: ["", "   ", "* * * *", "* * * * * *", "@reboot", "@daily 5", "@every"])
    func expressionErrors(expression: String) {
        #expect(throws: CronParseError.self) { try CronSchedule(parsing: expression) }
    }

    @Test("a wrong field count says how many were found and expected")
    func fieldCountMessage() {
        do {
            _ = try CronSchedule(parsing: "0 0 * * * *")
        } catch {
            #expect(error.field == nil)
            #expect(error.reason.contains("6 fields"))
            #expect(error.reason.contains("expected 5"))
        }
    }

    @Test("an out-of-range message gives the range")
    func rangeMessage() {
        do {
            _ = try CronSchedule(parsing: "75 * * * *")
        } catch {
            #expect(error.description == #"cron expression "75 * * * *": minute field: "75" is out of range; 75 is not from 0 to 59"#)
        }
    }
}
