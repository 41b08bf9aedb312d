import Foundation

extension CronSchedule {
    /// The first fire time strictly after `date`, or nil if there is none within eight years
    /// (such as `0 0 30 2 *`).
    ///
    /// Field schedules fire on the whole minute of the wall clock in `timeZone`. A wall time
    /// that a daylight-saving change skips does not fire; one it repeats fires once, at its
    /// first occurrence. The search jumps by month, day, hour and minute, so it takes at most
    /// a few thousand steps. `@every` schedules ignore the time zone.
    public func next(after date: Date, in timeZone: TimeZone = CronSchedule.utc) -> Date? {
        switch storage {
        case .interval(let seconds):
            let instant = date.timeIntervalSince1970
            let count = (instant / Double(seconds)).rounded(.down) + 1
            return Date(timeIntervalSince1970: count * Double(seconds))
        case .fields(let fields):
            return fields.next(after: date, in: timeZone)
        }
    }

    /// Whether the schedule fires at `date`: in the minute of `date` for field schedules,
    /// exactly at it for `@every` schedules.
    public func matches(_ date: Date, in timeZone: TimeZone = CronSchedule.utc) -> Bool {
        switch storage {
        case .interval(let seconds):
            let instant = date.timeIntervalSince1970
            return instant == (instant / Double(seconds)).rounded(.down) * Double(seconds)
        case .fields(let fields):
            let seconds = Int(date.timeIntervalSince1970.rounded(.down))
            let civil = CivilTime(secondsSinceEpoch: seconds + timeZone.secondsFromGMT(for: date))
            return fields.matches(civil)
        }
    }

    /// Coordinated Universal Time, the default zone of ``next(after:in:)``.
    public static let utc = TimeZone(secondsFromGMT: 0)!
}

extension CronFields {
    func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let afterSeconds = date.timeIntervalSince1970
        let flooredMinute = Int((afterSeconds / 60).rounded(.down)) * 60
        let startUTC = flooredMinute + 60
        // UTC needs no offset lookups; any other zone goes the general way, DST or not.
        let isUTC = timeZone.identifier == "UTC" || timeZone.identifier == "GMT" || timeZone == CronSchedule.utc
        var civil = CivilTime(secondsSinceEpoch: startUTC + (isUTC ? 0 : offset(timeZone, startUTC)))
        civil.second = 0
        let endYear = civil.year + Limits.cronSearchYears
        while let match = nextMatch(from: civil, endYear: endYear) {
            let local = match.secondsSinceEpoch
            if isUTC {
                return Date(timeIntervalSince1970: Double(local))
            }
            if let instant = instant(ofLocal: local, in: timeZone, after: afterSeconds) {
                return Date(timeIntervalSince1970: Double(instant))
            }
            // Skipped by a clock change, or already past: try the next minute.
            civil = CivilTime(secondsSinceEpoch: local + 60)
        }
        return nil
    }

    private func offset(_ timeZone: TimeZone, _ seconds: Int) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
    }

    /// The earliest instant after `after` whose wall time in `timeZone` is `local`, if any.
    private func instant(ofLocal local: Int, in timeZone: TimeZone, after: Double) -> Int? {
        // Clock changes are far more than a day apart, so the offsets a day either side
        // (and at the wall time itself) are all the offsets this wall time can have.
        let offsets = Set([local - 86_400, local, local + 86_400].map { offset(timeZone, $0) })
        return offsets
            .map { local - $0 }
            .filter { offset(timeZone, $0) + $0 == local && Double($0) > after }
            .min()
    }

    func matches(_ civil: CivilTime) -> Bool {
        has(months, civil.month) && has(hours, civil.hour) && has(minutes, civil.minute)
            && dayMatches(year: civil.year, month: civil.month, day: civil.day)
    }

    private func has(_ bits: UInt64, _ value: Int) -> Bool {
        bits & (1 << UInt64(value)) != 0
    }

    /// The smallest set bit at or above `value` and at most `limit`.
    private func nextBit(_ bits: UInt64, from value: Int, through limit: Int) -> Int? {
        guard value <= limit else { return nil }
        let remaining = bits >> UInt64(value)
        guard remaining != 0 else { return nil }
        let found = value + remaining.trailingZeroBitCount
        return found <= limit ? found : nil
    }

    private func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let dayOfMonth = has(days, day)
        let weekday = CivilTime.weekday(daysSinceEpoch: CivilTime.daysSinceEpoch(year: year, month: month, day: day))
        let dayOfWeek = has(weekdays, weekday)
        // Vixie: if either field is `*…`, both must match; if both are restricted, either may.
        return daysStar || weekdaysStar ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
    }

    /// The first wall time at or after `start` that the fields match, up to the end of `endYear`.
    private func nextMatch(from start: CivilTime, endYear: Int) -> CivilTime? {
        var year = start.year
        var month = start.month
        var day = start.day
        var hour = start.hour
        var minute = start.minute
        while year <= endYear {
            guard let nextMonth = nextBit(months, from: month, through: 12) else {
                year += 1
                (month, day, hour, minute) = (1, 1, 0, 0)
                continue
            }
            if nextMonth != month {
                (month, day, hour, minute) = (nextMonth, 1, 0, 0)
            }
            if day > CivilTime.daysInMonth(year: year, month: month) {
                (month, day, hour, minute) = (month + 1, 1, 0, 0)
                if month > 12 {
                    year += 1
                    month = 1
                }
                continue
            }
            guard dayMatches(year: year, month: month, day: day) else {
                (day, hour, minute) = (day + 1, 0, 0)
                continue
            }
            guard let nextHour = nextBit(hours, from: hour, through: 23) else {
                (day, hour, minute) = (day + 1, 0, 0)
                continue
            }
            if nextHour != hour {
                (hour, minute) = (nextHour, 0)
            }
            guard let nextMinute = nextBit(minutes, from: minute, through: 59) else {
                (hour, minute) = (hour + 1, 0)
                if hour > 23 {
                    (day, hour) = (day + 1, 0)
                }
                continue
            }
            return CivilTime(year: year, month: month, day: day, hour: hour, minute: nextMinute, second: 0)
        }
        return nil
    }
}
