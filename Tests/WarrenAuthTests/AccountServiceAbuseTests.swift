import Foundation
import Testing
import WarrenStore
@testable import WarrenAuth

/// Registration floods and a busy hashing pool, at the service.
@Suite("Accounts under abuse")
struct AccountServiceAbuseTests {
    let store = MemoryAccountStore()
    let clock = TestClock()
    let key = SigningKey(bytes: Array(repeating: 9, count: 32))!

    func service(perAddress: Int = 5, overall: Int = 60, hashing: PasswordHashPool = PasswordHashPool(threads: 1)) -> AccountService {
        let clock = self.clock
        return AccountService(
            store: store, key: key, hasher: PasswordHasher(rounds: 1_000),
            registrations: RegistrationThrottle(perAddress: perAddress, overall: overall), hashing: hashing, now: { clock.now }
        )
    }

    func failure(_ body: () async throws -> Void) async -> AuthFailure? {
        do {
            try await body()
            return nil
        } catch {
            return error as? AuthFailure
        }
    }

    @Test func registrationsFromOneAddressAreThrottledForTheRestOfTheMinute() async throws {
        let service = self.service(perAddress: 3)
        for index in 0..<3 { _ = try await service.register(name: "user\(index)", password: "correct horse", address: "10.0.0.1") }
        let refused = await failure { _ = try await service.register(name: "user3", password: "correct horse", address: "10.0.0.1") }
        #expect(refused?.code == .throttled)
        #expect(refused?.retryAfter == 60)
        _ = try await service.register(name: "user4", password: "correct horse", address: "10.0.0.2")
        clock.advance(60)
        _ = try await service.register(name: "user5", password: "correct horse", address: "10.0.0.1")
    }

    @Test func aThrottledRegistrationSaysNothingAboutTheName() async throws {
        let service = self.service(perAddress: 2)
        _ = try await service.register(name: "alice", password: "correct horse", address: "10.0.0.1")
        let taken = await failure { _ = try await service.register(name: "alice", password: "correct horse", address: "10.0.0.1") }
        #expect(taken?.code == .nameTaken, "an attempt on a taken name counts too")
        let onTaken = await failure { _ = try await service.register(name: "alice", password: "correct horse", address: "10.0.0.1") }
        let onFree = await failure { _ = try await service.register(name: "nobody", password: "correct horse", address: "10.0.0.1") }
        let onReserved = await failure { _ = try await service.register(name: "admin", password: "correct horse", address: "10.0.0.1") }
        let onInvalid = await failure { _ = try await service.register(name: "no spaces", password: "x", address: "10.0.0.1") }
        #expect(onTaken?.code == .throttled)
        #expect(onTaken == onFree && onFree == onReserved && onReserved == onInvalid, "one answer whatever the name")
    }

    @Test func everyonesRegistrationsTogetherHaveACeiling() async throws {
        let service = self.service(perAddress: 5, overall: 3)
        for index in 0..<3 { _ = try await service.register(name: "user\(index)", password: "correct horse", address: "10.0.1.\(index)") }
        let refused = await failure { _ = try await service.register(name: "user9", password: "correct horse", address: "10.0.1.9") }
        #expect(refused?.code == .throttled)
        let inProcess = await failure { _ = try await service.register(name: "user8", password: "correct horse") }
        #expect(inProcess?.code == .throttled, "callers without an address count toward the ceiling")
    }

    @Test func withTheHashingPoolFullSignInsAreRefusedAtOnceAndTokensStillWork() async throws {
        let pool = PasswordHashPool(threads: 1, queueCapacity: 0)
        let service = self.service(hashing: pool)
        let alice = try await service.register(name: "alice", password: "correct horse")
        let (gate, held) = await holdThread(of: pool)
        let started = ContinuousClock.now
        let login = await failure { _ = try await service.login(name: "alice", password: "correct horse", address: nil) }
        #expect(login?.code == .busy)
        #expect(login?.retryAfter == 1)
        let register = await failure { _ = try await service.register(name: "bob", password: "correct horse") }
        #expect(register?.code == .busy)
        #expect(started.duration(to: .now) < .seconds(5), "refused without waiting for the pool")
        // The broker's question and the REST API's token check never hash.
        #expect(service.authenticatesBroker(user: "alice", password: alice.accessToken))
        #expect(try service.authorize(accessToken: alice.accessToken).subject == "alice")
        _ = try await service.refresh(alice.refreshToken)
        gate.open(for: 1)
        try await held.value
        _ = try await service.login(name: "alice", password: "correct horse", address: nil)
    }

    @Test func aBusyRefusalIsNotAFailedSignIn() async throws {
        let pool = PasswordHashPool(threads: 1, queueCapacity: 0)
        let service = self.service(hashing: pool)
        _ = try await service.register(name: "alice", password: "correct horse")
        let (gate, held) = await holdThread(of: pool)
        for _ in 0..<10 {
            #expect(await failure { _ = try await service.login(name: "alice", password: "correct horse", address: "10.0.0.1") }?.code == .busy)
        }
        gate.open(for: 1)
        try await held.value
        _ = try await service.login(name: "alice", password: "correct horse", address: "10.0.0.1")
    }
}
