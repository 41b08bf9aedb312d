import Foundation

/// How much longer than its nominal bound a test waits for something that should happen.
///
/// The bounds in these tests are there so a hung test ends, not to measure speed; on a busy
/// two-core machine running the whole suite in parallel, a step that takes 50 ms alone can take
/// seconds. Every wait for success is scaled by `factor` (`WARREN_TEST_PATIENCE`, default 3);
/// waits that check nothing *else* arrives are not, since waiting longer there can only make a
/// test stricter.
enum TestPatience {
    /// `WARREN_TEST_PATIENCE` when it is a positive number, else 3.
    static let factor: Double = {
        guard let text = ProcessInfo.processInfo.environment["WARREN_TEST_PATIENCE"],
            let value = Double(text), value > 0
        else { return 3 }
        return value
    }()

    /// `seconds` scaled by ``factor``.
    static func scaled(_ seconds: Double) -> Double { seconds * factor }

    /// Says the bound as it applied, e.g. "30 s (10 s × patience 3)".
    static func describe(_ seconds: Double) -> String {
        factor == 1 ? "\(seconds) s" : "\(scaled(seconds)) s (\(seconds) s × patience \(factor))"
    }
}
