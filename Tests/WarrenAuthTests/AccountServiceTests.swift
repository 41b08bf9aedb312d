import Foundation
import Testing
import WarrenStore
@testable import WarrenAuth

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: Int64

    init(_ seconds: Int64 = 1_800_000_000) { self.seconds = seconds }

    var now: Int64 { lock.withLock { seconds } }
    func advance(_ by: Int64) { lock.withLock { seconds += by } }
}

@Suite("Accounts and sessions")
struct AccountServiceTests {
    let store = MemoryAccountStore()
    let clock = TestClock()
    let key = SigningKey(bytes: Array(repeating: 9, count: 32))!

    var service: AccountService {
        let clock = self.clock
        return AccountService(store: store, key: key, hasher: PasswordHasher(rounds: 1_000), now: { clock.now })
    }

    func failure(_ body: () async throws -> Void) async -> AuthFailure? {
        do {
            try await body()
            return nil
        } catch let error as AuthFailure {
            return error
        } catch {
            Issue.record("not an AuthFailure: \(error)")
            return nil
        }
    }

    @Test func registerThenLoginGivesTokensTheBrokerAccepts() async throws {
        let service = self.service
        let registered = try await service.register(name: "alice", password: "correct horse")
        #expect(registered.name == "alice")
        #expect(registered.accessExpiresAt == clock.now + 900)
        #expect(registered.refreshExpiresAt == clock.now + 7 * 24 * 3600)
        let pair = try await service.login(name: "alice", password: "correct horse", address: "127.0.0.1")
        #expect(service.authenticatesBroker(user: "alice", password: pair.accessToken))
        #expect(!service.authenticatesBroker(user: "bob", password: pair.accessToken), "the token is alice's")
        #expect(!service.authenticatesBroker(user: "Alice", password: pair.accessToken), "names are exact")
        #expect(!service.authenticatesBroker(user: "alice", password: pair.refreshToken), "a refresh token is no passcode")
        #expect(!service.authenticatesBroker(user: "alice", password: "correct horse"), "nor is the password")
    }

    @Test func aWrongPasswordAndAnUnknownNameFailAlike() async throws {
        let service = self.service
        _ = try await service.register(name: "alice", password: "correct horse")
        let wrong = await failure { _ = try await service.login(name: "alice", password: "wrong horse", address: nil) }
        let unknown = await failure { _ = try await service.login(name: "nobody", password: "wrong horse", address: nil) }
        let invalid = await failure { _ = try await service.login(name: "not a name", password: "wrong horse", address: nil) }
        #expect(wrong != nil)
        #expect(wrong == unknown)
        #expect(wrong == invalid)
        #expect(wrong?.code == .invalidCredentials)
    }

    @Test func registrationRefusesTakenReservedAndInvalidNamesAndWeakPasswords() async throws {
        let service = self.service
        _ = try await service.register(name: "alice", password: "correct horse")
        #expect(await failure { _ = try await service.register(name: "ALICE", password: "correct horse") }?.code == .nameTaken)
        #expect(await failure { _ = try await service.register(name: "warren", password: "correct horse") }?.code == .nameTaken)
        #expect(await failure { _ = try await service.register(name: "Guest", password: "correct horse") }?.code == .nameTaken)
        #expect(await failure { _ = try await service.register(name: "a b", password: "correct horse") }?.code == .invalidName)
        #expect(await failure { _ = try await service.register(name: "", password: "correct horse") }?.code == .invalidName)
        #expect(await failure { _ = try await service.register(name: "carol", password: "short") }?.code == .weakPassword)
        let withServiceUser = AccountService(store: store, key: key, hasher: PasswordHasher(rounds: 1_000), reservedNames: ["SVC"])
        #expect(await failure { _ = try await withServiceUser.register(name: "svc", password: "correct horse") }?.code == .nameTaken)
    }

    @Test func theSixthFailureInAMinuteIsThrottledEvenWithTheRightPassword() async throws {
        let service = self.service
        _ = try await service.register(name: "alice", password: "correct horse")
        for _ in 0..<5 {
            #expect(await failure { _ = try await service.login(name: "alice", password: "wrong horse", address: "10.0.0.9") }?.code == .invalidCredentials)
        }
        let throttled = await failure { _ = try await service.login(name: "alice", password: "correct horse", address: "10.0.0.9") }
        #expect(throttled?.code == .throttled)
        #expect(throttled?.retryAfter == 60)
        clock.advance(60)
        _ = try await service.login(name: "alice", password: "correct horse", address: "10.0.0.9")
    }

    @Test func anExpiredAccessTokenIsRefusedByTheBroker() async throws {
        let service = self.service
        let pair = try await service.register(name: "alice", password: "correct horse")
        clock.advance(899)
        #expect(service.authenticatesBroker(user: "alice", password: pair.accessToken))
        clock.advance(1)
        #expect(!service.authenticatesBroker(user: "alice", password: pair.accessToken))
    }

    @Test func refreshRotatesAndAReusedTokenEndsTheFamily() async throws {
        let service = self.service
        let first = try await service.register(name: "alice", password: "correct horse")
        let second = try await service.refresh(first.refreshToken)
        #expect(second.refreshToken != first.refreshToken)
        #expect(service.authenticatesBroker(user: "alice", password: second.accessToken))
        // The old token again: a thief or a replay. The whole family ends.
        #expect(await failure { _ = try await service.refresh(first.refreshToken) }?.code == .tokenReused)
        #expect(await failure { _ = try await service.refresh(second.refreshToken) }?.code == .invalidToken)
        #expect(!service.authenticatesBroker(user: "alice", password: second.accessToken))
        // Another sign-in is another family and still works.
        let other = try await service.login(name: "alice", password: "correct horse", address: nil)
        #expect(service.authenticatesBroker(user: "alice", password: other.accessToken))
    }

    @Test func logoutRevokesTheFamily() async throws {
        let service = self.service
        let pair = try await service.register(name: "alice", password: "correct horse")
        #expect(try await service.logout(refreshToken: nil, accessToken: pair.accessToken) == "alice")
        #expect(!service.authenticatesBroker(user: "alice", password: pair.accessToken))
        #expect(await failure { _ = try await service.refresh(pair.refreshToken) }?.code == .invalidToken)
        #expect(await failure { _ = try await service.logout(refreshToken: "junk", accessToken: nil) }?.code == .invalidToken)
    }

    @Test func anExpiredAccessTokenStillSignsOut() async throws {
        let service = self.service
        let pair = try await service.register(name: "alice", password: "correct horse")
        clock.advance(3600)
        #expect(try await service.logout(refreshToken: nil, accessToken: pair.accessToken) == "alice")
        #expect(await failure { _ = try await service.refresh(pair.refreshToken) }?.code == .invalidToken)
        #expect(try await service.logout(refreshToken: nil, accessToken: pair.accessToken) == "alice", "twice is fine")
    }

    @Test func aRefreshTokenFromAnotherKeyOrExpiredIsRefused() async throws {
        let service = self.service
        let pair = try await service.register(name: "alice", password: "correct horse")
        let other = AccountService(store: store, key: SigningKey.generate(), hasher: PasswordHasher(rounds: 1_000))
        #expect(await failure { _ = try await other.refresh(pair.refreshToken) }?.code == .invalidToken)
        clock.advance(7 * 24 * 3600)
        #expect(await failure { _ = try await service.refresh(pair.refreshToken) }?.code == .invalidToken)
    }
}
