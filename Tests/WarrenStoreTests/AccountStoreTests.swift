import Foundation
import Testing
import WarrenCore

@testable import WarrenStore

/// The account store's contract, run against every configured backend.
@Suite("AccountStore on SQLite and PostgreSQL")
struct AccountStoreTests {
    static let created = Date(timeIntervalSince1970: 1_795_000_000.456)

    @Test("names are unique without regard to case", arguments: StoreTestEnvironment.backends)
    func caseInsensitiveNames(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let alice = Account(name: "Alice", passwordHash: "scrypt$N=16384$salt$hash", createdAt: Self.created)
            try await store.accounts.createAccount(alice)
            await #expect(throws: StoreError.nameTaken("alice")) {
                try await store.accounts.createAccount(Account(name: "alice", passwordHash: "other", createdAt: Date()))
            }
            await #expect(throws: StoreError.nameTaken("ALICE")) {
                try await store.accounts.createAccount(Account(name: "ALICE", passwordHash: "other", createdAt: Date()))
            }
            #expect(try await store.accounts.account(named: "aLiCe") == alice)
            #expect(try await store.accounts.account(named: "Alice") == alice)
            #expect(try await store.accounts.account(named: "bob") == nil)
            try await store.accounts.createAccount(Account(name: "bob", passwordHash: "h", createdAt: Self.created))
            #expect(try await store.accounts.account(named: "BOB")?.name == "bob")
        }
    }

    @Test("many concurrent registrations of one name: exactly one succeeds", arguments: StoreTestEnvironment.backends)
    func concurrentRegistration(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let names = (0..<16).map { $0.isMultiple(of: 2) ? "carol" : "CAROL" }
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, name) in names.enumerated() {
                    group.addTask {
                        do {
                            try await store.accounts.createAccount(Account(name: name, passwordHash: "h\(index)", createdAt: Self.created))
                            return true
                        } catch StoreError.nameTaken {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(created == 1)
        }
    }

    @Test("a refresh token round-trips", arguments: StoreTestEnvironment.backends)
    func refreshTokenRoundTrip(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let record = RefreshTokenRecord(
                id: "jti-1", family: "fam-1", account: "alice", expiresAt: Self.created.addingTimeInterval(7 * 86_400))
            try await store.accounts.insertRefreshToken(record)
            #expect(try await store.accounts.refreshToken(id: "jti-1") == record)
            #expect(try await store.accounts.refreshToken(id: "jti-2") == nil)
            await #expect(throws: (any Error).self) { try await store.accounts.insertRefreshToken(record) }
        }
    }

    @Test("marking a token used: of many concurrent callers exactly one wins", arguments: StoreTestEnvironment.backends)
    func markUsedIsAtomic(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            try await store.accounts.insertRefreshToken(
                RefreshTokenRecord(id: "jti-race", family: "fam", account: "alice", expiresAt: Self.created.addingTimeInterval(600)))
            let usedAt = Self.created.addingTimeInterval(60)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<24 {
                    group.addTask { try await store.accounts.markRefreshTokenUsed(id: "jti-race", at: usedAt) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(winners == 1)
            #expect(try await store.accounts.refreshToken(id: "jti-race")?.usedAt == usedAt)
            #expect(try await store.accounts.markRefreshTokenUsed(id: "jti-race", at: usedAt) == false)
            #expect(try await store.accounts.markRefreshTokenUsed(id: "unknown", at: usedAt) == false)
        }
    }

    @Test("revoking a family revokes its tokens only, once", arguments: StoreTestEnvironment.backends)
    func revokeFamily(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let expires = Self.created.addingTimeInterval(600)
            for (id, family) in [("t1", "A"), ("t2", "A"), ("t3", "B")] {
                try await store.accounts.insertRefreshToken(RefreshTokenRecord(id: id, family: family, account: "alice", expiresAt: expires))
            }
            #expect(try await store.accounts.markRefreshTokenUsed(id: "t1", at: Self.created))
            let revoked = Self.created.addingTimeInterval(120)
            try await store.accounts.revokeFamily("A", at: revoked)
            #expect(try await store.accounts.refreshToken(id: "t1")?.revokedAt == revoked)
            #expect(try await store.accounts.refreshToken(id: "t1")?.usedAt == Self.created)
            #expect(try await store.accounts.refreshToken(id: "t2")?.revokedAt == revoked)
            #expect(try await store.accounts.refreshToken(id: "t3")?.revokedAt == nil)
            #expect(try await store.accounts.markRefreshTokenUsed(id: "t2", at: revoked) == false)
            #expect(try await store.accounts.markRefreshTokenUsed(id: "t3", at: revoked) == true)
            // A second revocation keeps the first instant.
            try await store.accounts.revokeFamily("A", at: revoked.addingTimeInterval(60))
            #expect(try await store.accounts.refreshToken(id: "t2")?.revokedAt == revoked)
        }
    }
}
