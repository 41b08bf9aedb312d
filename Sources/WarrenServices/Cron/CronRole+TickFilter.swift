#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension CronRole {
    /// The tick dedupe of the active consumer; pure.
    public struct TickFilter: Sendable, Equatable {
        /// The latest tick posted.
        public var lastPosted: Date?
        /// How old a tick may be.
        public var staleness: TimeInterval

        /// Creates a filter.
        public init(lastPosted: Date? = nil, staleness: TimeInterval) {
            self.lastPosted = lastPosted
            self.staleness = staleness
        }

        /// Whether to post `tick` at time `now`.
        public func shouldPost(_ tick: Date, now: Date) -> Bool {
            if let lastPosted, tick <= lastPosted { return false }
            return now.timeIntervalSince(tick) <= self.staleness
        }
    }
}
