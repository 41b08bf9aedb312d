import BenchStats
import Testing

struct PercentileTests {
    @Test func nearestRank() {
        let samples = Array(1...100)
        #expect(Percentile.of(samples, 0.50) == 50)
        #expect(Percentile.of(samples, 0.99) == 99)
        #expect(Percentile.of(samples, 1.0) == 100)
        #expect(Percentile.of([10, 20, 30, 40], 0.50) == 20)
        #expect(Percentile.of([7], 0.99) == 7)
        #expect(Percentile.of([Int](), 0.5) == nil)
    }
}
