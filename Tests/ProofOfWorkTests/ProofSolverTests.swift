import Crypto
import Testing

@testable import ProofOfWork

import Foundation

/// Collects values from worker threads.
final class Recorder<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Value] = []

    func append(_ value: Value) {
        lock.lock()
        storage.append(value)
        lock.unlock()
    }

    var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

@Suite("Solving and verifying")
struct ProofSolverTests {
    @Test("solve then verify round-trips", arguments: SHA256Backend.available, [8, 12, 16])
    func roundTrip(backend: SHA256Backend, bits: Int) async throws {
        let (id, author, text) = ("post-\(bits)", "alice", "hello \(backend) !pow")
        let proof = try await ProofSolver(workers: 2, backend: backend).solve(
            id: id, author: author, text: text, bits: bits)
        #expect(proof.bits == bits)
        #expect(proof.challenge == ProofChallenge.make(id: id, author: author, text: text))
        #expect(proof.hash == hex(referenceHash(proof.challenge, proof.nonce)))
        #expect(referenceHash(proof.challenge, proof.nonce).leadingZeroBits >= bits)
        // Workers take separate chunks, so the nonce can lie beyond the hashes actually tried.
        #expect(proof.hashesTried >= 1)
        #expect(proof.hashesPerSecond > 0)
        #expect(proof.verify())
        #expect(proof.verify(id: id, author: author, text: text))
        for other in SHA256Backend.available {
            #expect(proof.verify(id: id, author: author, text: text, backend: other))
        }
    }

    @Test("one worker and many workers both find proofs", arguments: [1, 3, 8])
    func workerCounts(workers: Int) async throws {
        let proof = try await ProofSolver(workers: workers).solve(challenge: "workers \(workers)", bits: 12)
        #expect(proof.verify())
    }

    @Test("tampered proofs fail")
    func tampering() async throws {
        let (id, author, text) = ("m-9", "bob", "the text !rpc")
        let proof = try await ProofSolver().solve(id: id, author: author, text: text, bits: 14)
        #expect(proof.verify(id: id, author: author, text: text))

        var nonce = proof
        nonce.nonce += 1
        #expect(!nonce.verify())

        #expect(!proof.verify(id: id, author: author, text: "the text !rpc "))
        #expect(!proof.verify(id: id, author: "bobby", text: text))
        #expect(!proof.verify(id: "m-8", author: author, text: text))

        var challenge = proof
        challenge.challenge += "x"
        #expect(!challenge.verify())

        var hash = proof
        let last = hash.hash.removeLast()
        hash.hash.append(last == "0" ? "1" : "0")
        #expect(!hash.verify())

        var claimsMore = proof
        claimsMore.bits = referenceHash(proof.challenge, proof.nonce).leadingZeroBits + 1
        #expect(!claimsMore.verify())
        for bits in [0, -1, 65, 256] {
            var invalid = proof
            invalid.bits = bits
            #expect(!invalid.verify())
        }
    }

    @Test("bits outside 1...64 are rejected", arguments: [0, -1, 65, 1000])
    func invalidBits(bits: Int) async throws {
        await #expect(throws: ProofOfWorkError.self) {
            try await ProofSolver().solve(challenge: "c", bits: bits)
        }
        do {
            _ = try await ProofSolver().solve(challenge: "c", bits: bits)
        } catch let error as ProofOfWorkError {
            #expect(error.code == .invalidBits)
            #expect(error.message.contains("\(bits)"))
        }
        #expect(throws: ProofOfWorkError.self) {
            try ProofSolver().search(challenge: "c", bits: bits, nonces: 0..<10)
        }
    }

    @Test("zero workers are rejected")
    func invalidWorkers() async {
        do {
            _ = try await ProofSolver(workers: 0).solve(challenge: "c", bits: 8)
            Issue.record("expected an error")
        } catch let error as ProofOfWorkError {
            #expect(error.code == .invalidWorkerCount)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("an unavailable backend is an error, not a silent fallback")
    func unavailableBackend() async {
        guard let missing = SHA256Backend.allCases.first(where: { !$0.isAvailable }) else { return }
        do {
            _ = try await ProofSolver(backend: missing).solve(challenge: "c", bits: 8)
            Issue.record("expected an error")
        } catch let error as ProofOfWorkError {
            #expect(error.code == .backendUnavailable)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("cancelling a 40-bit solve stops the workers", arguments: SHA256Backend.available)
    func cancellation(backend: SHA256Backend) async throws {
        let reports = Recorder<SolveProgress>()
        let task = Task {
            try await ProofSolver(workers: 2, backend: backend, progressInterval: .milliseconds(100))
                .solve(challenge: "never mind", bits: 40) { reports.append($0) }
        }
        try await Task.sleep(for: .milliseconds(300))
        let cancelledAt = ContinuousClock.now
        task.cancel()
        let outcome = await task.result
        let waited = ContinuousClock.now - cancelledAt
        #expect(throws: CancellationError.self) { try outcome.get() }
        // A 40-bit search takes hours here, so stopping within seconds proves the cancel worked.
        #expect(waited < .seconds(20), "took \(waited) to stop")

        // Every worker has returned by the time solve throws, so no report can follow.
        let count = reports.values.count
        try await Task.sleep(for: .milliseconds(300))
        #expect(reports.values.count == count)
    }

    @Test("a task cancelled before it starts throws at once")
    func cancelledBeforeStart() async {
        let task = Task {
            try await Task.sleep(for: .milliseconds(50))
            return try await ProofSolver().solve(challenge: "late", bits: 40)
        }
        task.cancel()
        let outcome = await task.result
        #expect(throws: CancellationError.self) { try outcome.get() }
    }

    @Test("progress is reported no more often than the interval")
    func progress() async throws {
        let reports = Recorder<(at: ContinuousClock.Instant, progress: SolveProgress)>()
        let task = Task {
            try await ProofSolver(workers: 2).solve(challenge: "progress", bits: 48) {
                reports.append((ContinuousClock.now, $0))
            }
        }
        // Wait for reports rather than for a fixed time: the machine may be busy.
        let deadline = ContinuousClock.now + .seconds(60)
        while reports.values.count < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let stoppedAt = ContinuousClock.now
        task.cancel()
        _ = await task.result
        let values = reports.values
        #expect(values.count >= 3)
        if let first = values.first {
            // At most one report per 100 ms since the first (plus the one that may be in flight).
            let window = Double((stoppedAt - first.at) / .milliseconds(100))
            #expect(Double(values.count) <= window + 2)
        }
        for (earlier, later) in zip(values, values.dropFirst()) {
            #expect(later.progress.hashesDone > earlier.progress.hashesDone)
            #expect(later.progress.elapsed - earlier.progress.elapsed >= .milliseconds(100))
        }
        #expect(values.allSatisfy { $0.progress.hashesPerSecond > 0 })
    }
}
