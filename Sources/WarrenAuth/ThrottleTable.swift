/// Counts events per key in fixed windows, in bounded memory: failed sign-ins per name or
/// address (``LoginThrottle``), registrations per address and in all (``RegistrationThrottle``).
///
/// A pure value: the caller passes the time in. After `limit` events within `window` seconds
/// the key is blocked until that window ends. Memory is bounded by two generations of at most
/// `capacity / 2` keys each: when the young one fills, the old one is dropped and the young one
/// becomes old, and a key found in the old one moves back to the young one. This is an LRU
/// approximation in O(1) per call; under a flood of new keys the least recently seen go first.
public struct ThrottleTable: Sendable {
    struct Entry: Sendable, Hashable {
        var windowStart: Int64
        var failures: Int
    }

    /// Events allowed per window.
    public let limit: Int
    /// The window's length in seconds.
    public let window: Int64
    /// The most keys remembered.
    public let capacity: Int
    private var young: [String: Entry] = [:]
    private var old: [String: Entry] = [:]

    /// Creates an empty table.
    public init(limit: Int = 5, window: Int64 = 60, capacity: Int = 100_000) {
        precondition(limit > 0 && window > 0 && capacity >= 2)
        self.limit = limit
        self.window = window
        self.capacity = capacity
    }

    /// How many keys are remembered now (at most ``capacity``).
    public var count: Int { young.count + old.count }

    /// Seconds until `key` may try again, or nil when it may try now.
    public mutating func retryAfter(_ key: String, now: Int64) -> Int64? {
        guard let entry = lookUp(key) else { return nil }
        let ends = entry.windowStart + window
        guard now < ends else {
            young[key] = nil
            return nil
        }
        return entry.failures >= limit ? ends - now : nil
    }

    /// Counts an event of `key` (a failed sign-in, a registration).
    public mutating func record(_ key: String, now: Int64) {
        var entry = lookUp(key) ?? Entry(windowStart: now, failures: 0)
        if now >= entry.windowStart + window { entry = Entry(windowStart: now, failures: 0) }
        entry.failures += 1
        store(key, entry)
    }

    /// Forgets `key` (after a successful sign-in of that name).
    public mutating func reset(_ key: String) {
        young[key] = nil
        old[key] = nil
    }

    /// Finds a key, moving it from the old generation to the young one.
    private mutating func lookUp(_ key: String) -> Entry? {
        if let entry = young[key] { return entry }
        guard let entry = old.removeValue(forKey: key) else { return nil }
        store(key, entry)
        return entry
    }

    private mutating func store(_ key: String, _ entry: Entry) {
        if young[key] == nil, young.count >= capacity / 2 {
            old = young
            young = [:]
        }
        young[key] = entry
    }
}
