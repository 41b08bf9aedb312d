/// Percentiles by nearest rank, the one way every benchmark of the project reports them.
///
/// The p-th percentile of n sorted samples is the sample at rank ⌈p·n⌉ (1-based), so p50 of
/// four samples is the second, p99 of a hundred the 99th, and p100 the largest.
public enum Percentile {
    /// The `p`-th percentile (0...1) of samples sorted in increasing order; nil when empty.
    public static func of<T>(_ sorted: [T], _ p: Double) -> T? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
