import Foundation

/// One fault of the chaos drill: what was done, when (seconds after the drill's origin), and
/// when the node was back in the cluster (or the partition healed).
struct ChaosFault: Sendable {
    let what: String
    let at: Double
    var back: Double
}

/// What each fault cost, from the ledger's and the tabs' records:
/// - posting stalled: the longest time between two accepted posts from the fault until 10 s
///   after the node was back (what an API client saw);
/// - every tab carried on: how long after the fault every tab had a post sent after the fault
///   (from a live delivery, or from the backfill of a new login on another node);
/// - re-logins: how many tabs logged in again meanwhile (their queue's node went);
/// - answered late: how many posts sent in the same window the broker took but the login service
///   did not answer within the poster's wait (5 s; `queued`). Such a post counts as accepted when
///   the wait ended, so a login service that stops answering shows as a stall of about 5 s
///   however long it lasted: this count says how long it was.
struct FaultCost: Sendable, CustomStringConvertible {
    let fault: ChaosFault
    let postingStall: Double
    let everyTabAfter: Double?
    let relogins: Int
    let answeredLate: Int

    var description: String {
        let tabs = self.everyTabAfter.map { String(format: "%.1f s", $0) } ?? "never"
        return String(
            format: "%@ at %.1f s (back at %.1f s): posting stalled %.1f s at most; %d posts answered late; every tab had a newer post %@ after it; %d tabs logged in again",
            self.fault.what, self.fault.at, self.fault.back, self.postingStall, self.answeredLate, tabs, self.relogins
        )
    }

    /// The cost of each fault; `accepted` are the accepted posts' times and `sent` the send times
    /// by post number (seconds after the origin), `late` the send times of the posts accepted
    /// without an answer, `arrivals` each tab's first arrival per post number and `logins` each
    /// tab's login times.
    static func measure(
        faults: [ChaosFault], accepted: [Double], sent: [Double], late: [Double], arrivals: [[Double]], logins: [[Double]]
    ) -> [FaultCost] {
        let acceptedTimes = accepted.sorted()
        return faults.enumerated().map { index, fault in
            let until = fault.back + 10
            var stall = 0.0
            for (earlier, later) in zip(acceptedTimes, acceptedTimes.dropFirst()) where later > fault.at && earlier < until {
                stall = max(stall, later - max(earlier, fault.at))
            }
            // The first post sent at the fault or after it.
            let first = sent.firstIndex { $0 >= fault.at } ?? sent.count
            var slowest: Double? = 0
            for tab in arrivals {
                var earliest = Double.infinity
                // A tab's arrays grow with the posts it got: they may end before `first`.
                for number in first..<max(first, min(tab.count, sent.count)) where tab[number] >= 0 { earliest = min(earliest, tab[number]) }
                if earliest.isFinite { slowest = slowest.map { max($0, earliest - fault.at) } } else { slowest = nil }
            }
            let next = index + 1 < faults.count ? faults[index + 1].at : Double.infinity
            let relogins = logins.filter { $0.contains { $0 >= fault.at && $0 < next } }.count
            let answeredLate = late.filter { $0 >= fault.at && $0 < min(until, next) }.count
            return FaultCost(fault: fault, postingStall: stall, everyTabAfter: slowest, relogins: relogins, answeredLate: answeredLate)
        }
    }
}
