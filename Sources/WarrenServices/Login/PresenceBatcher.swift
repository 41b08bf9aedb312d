import NIOConcurrencyHelpers
import WarrenCore

/// Decides when "joined" and "left" reach the room: at once when people come one by one, in
/// batches when many come together.
///
/// Every presence event goes to every tab, so N tabs signing in at once (a page opened by a
/// whole class, say) would cost N×N deliveries one by one. The first change after a quiet
/// spell is announced at once and opens a window; changes within the window wait for its end
/// (or until `maxNames` of one kind wait) and go out as one event naming them all. The window
/// grows with the audience (how many tabs receive each event), so presence costs the broker at
/// most `deliveriesPerSecond` however many tabs are in: 5,000 tabs signing in behind a fixed
/// 250 ms window were 20,000 presence deliveries a second, more than a 2-core node delivers in
/// all. Pure: time and audience are passed in; the login role asks ``due(now:audience:)`` on a
/// timer.
struct PresenceBatcher: Sendable {
    /// A change of who is in the room (`joined`, `left`: a session began or ended, `presence`
    /// events kept in history), or of who has a tab connected (`online`, `offline`: transient
    /// `online` events). Of `online` and `offline` the latest for a name wins within a window.
    enum Change: String, Sendable, CaseIterable {
        case joined, left
        case online = "came online"
        case offline = "went offline"

        /// The kind of event that announces it.
        var kind: EventKind { self == .online || self == .offline ? .online : .presence }

        /// The change a later one of the same person undoes, if any.
        var opposite: Change? {
            switch self {
            case .online: .offline
            case .offline: .online
            case .joined, .left: nil
            }
        }
    }

    /// One presence event to publish.
    struct Announcement: Equatable, Sendable {
        /// What changed.
        let change: Change
        /// Who, in the order they came (each once).
        let names: [String]

        /// "alice joined", "alice and bob joined", "alice, bob and carol joined",
        /// "alice, bob, carol and 47 others joined".
        var text: String {
            let verb = self.change.rawValue
            switch self.names.count {
            case 0: return "nobody \(verb)"
            case 1: return "\(self.names[0]) \(verb)"
            case 2...3: return "\(self.names.dropLast().joined(separator: ", ")) and \(self.names.last!) \(verb)"
            default: return "\(self.names.prefix(3).joined(separator: ", ")) and \(self.names.count - 3) others \(verb)"
            }
        }
    }

    /// How long changes after an announcement are gathered, at least.
    let window: Duration
    /// The presence deliveries a second the batcher aims to stay under: one event per window,
    /// received by each tab of the audience.
    let deliveriesPerSecond: Int
    /// The most names one announcement holds.
    let maxNames: Int
    private var pending: [Change: [String]] = [:]
    private var windowEnds: Duration?

    init(window: Duration, deliveriesPerSecond: Int = .max, maxNames: Int = 1_000) {
        self.window = window
        self.deliveriesPerSecond = max(1, deliveriesPerSecond)
        self.maxNames = max(1, maxNames)
    }

    /// The window for an audience of `audience` tabs: `window`, or longer when one event per
    /// window to each of them would cost more than `deliveriesPerSecond`.
    func window(audience: Int) -> Duration {
        max(self.window, .milliseconds(Int64(max(0, audience)) * 1_000 / Int64(self.deliveriesPerSecond)))
    }

    /// Someone joined or left at `now` before `audience` tabs; returns what to announce now.
    mutating func changed(_ change: Change, _ name: String, now: Duration, audience: Int = 0) -> [Announcement] {
        guard let end = self.windowEnds, now < end else {
            var out = self.takeAll()
            self.windowEnds = now + self.window(audience: audience)
            out.append(Announcement(change: change, names: [name]))
            return out
        }
        if let opposite = change.opposite, var undone = self.pending[opposite] {
            undone.removeAll { $0 == name }
            self.pending[opposite] = undone.isEmpty ? nil : undone
        }
        var names = self.pending[change, default: []]
        if !names.contains(name) { names.append(name) }
        if names.count >= self.maxNames {
            self.pending[change] = nil
            return [Announcement(change: change, names: names)]
        }
        self.pending[change] = names
        return []
    }

    /// What is due at `now`: the changes gathered, once their window has ended.
    mutating func due(now: Duration, audience: Int = 0) -> [Announcement] {
        guard let end = self.windowEnds, now >= end else { return [] }
        let out = self.takeAll()
        // A storm goes on being gathered; after a quiet window the next change goes out at once.
        self.windowEnds = out.isEmpty ? nil : now + self.window(audience: audience)
        return out
    }

    /// Whether anything waits.
    var isEmpty: Bool { self.pending.isEmpty }

    private mutating func takeAll() -> [Announcement] {
        let out = Change.allCases.compactMap { change in self.pending[change].map { Announcement(change: change, names: $0) } }
        self.pending.removeAll()
        return out
    }
}

/// A ``PresenceBatcher`` behind a lock on the continuous clock, for the login tasks and the
/// timer that sends what is due; `audience` tells how many tabs receive an event now.
final class SharedPresence: Sendable {
    private let origin = ContinuousClock.now
    private let box: NIOLockedValueBox<PresenceBatcher>
    private let audience: @Sendable () -> Int

    init(window: Duration, deliveriesPerSecond: Int, audience: @escaping @Sendable () -> Int) {
        self.box = NIOLockedValueBox(PresenceBatcher(window: window, deliveriesPerSecond: deliveriesPerSecond))
        self.audience = audience
    }

    private var now: Duration { ContinuousClock.now - self.origin }

    func changed(_ change: PresenceBatcher.Change, _ name: String) -> [PresenceBatcher.Announcement] {
        let now = self.now
        let audience = self.audience()
        return self.box.withLockedValue { $0.changed(change, name, now: now, audience: audience) }
    }

    /// What is due now; with `all`, everything that waits (on the way out).
    func due(all: Bool = false) -> [PresenceBatcher.Announcement] {
        let now = all ? self.now + .seconds(86_400) : self.now
        let audience = self.audience()
        return self.box.withLockedValue { $0.due(now: now, audience: audience) }
    }
}
