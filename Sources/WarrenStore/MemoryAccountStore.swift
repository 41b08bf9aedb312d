import Foundation

/// An ``AccountStore`` in memory: for tests of the layers above the store. It forgets
/// everything when the process ends, so no role uses it.
public actor MemoryAccountStore: AccountStore {
    private var accounts: [String: Account] = [:]
    private var tokens: [String: RefreshTokenRecord] = [:]

    /// Creates an empty store.
    public init() {}

    public func createAccount(_ account: Account) throws {
        let key = account.name.lowercased()
        guard accounts[key] == nil else { throw StoreError.nameTaken(account.name) }
        accounts[key] = account
    }

    public func account(named name: String) -> Account? {
        accounts[name.lowercased()]
    }

    public func insertRefreshToken(_ record: RefreshTokenRecord) {
        tokens[record.id] = record
    }

    public func refreshToken(id: String) -> RefreshTokenRecord? {
        tokens[id]
    }

    public func markRefreshTokenUsed(id: String, at date: Date) -> Bool {
        guard var record = tokens[id], record.usedAt == nil, record.revokedAt == nil else { return false }
        record.usedAt = date
        tokens[id] = record
        return true
    }

    public func revokeFamily(_ family: String, at date: Date) {
        for (id, record) in tokens where record.family == family && record.revokedAt == nil {
            tokens[id]?.revokedAt = date
        }
    }
}
