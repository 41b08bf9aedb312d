import Foundation

/// A person who can sign in.
public struct Account: Sendable, Hashable {
    /// The login name, as registered (validated as ``WarrenCore/Validation`` validates logins).
    public var name: String
    /// The encoded password hash (algorithm, parameters, salt and hash in one string).
    public var passwordHash: String
    /// When the account was made.
    public var createdAt: Date

    /// Creates an account value.
    public init(name: String, passwordHash: String, createdAt: Date) {
        self.name = name
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }
}

/// One refresh token as the store keeps it. The token itself is never stored, only its id.
public struct RefreshTokenRecord: Sendable, Hashable {
    /// The token's unique id (the `jti` of a signed token).
    public var id: String
    /// Every token rotated from one sign-in shares a family; reusing a token revokes it all.
    public var family: String
    /// Whose token it is.
    public var account: String
    /// When it stops being valid.
    public var expiresAt: Date
    /// When it was exchanged for a new one, if it was.
    public var usedAt: Date?
    /// When it (or its family) was revoked, if it was.
    public var revokedAt: Date?

    /// Creates a record.
    public init(id: String, family: String, account: String, expiresAt: Date, usedAt: Date? = nil, revokedAt: Date? = nil) {
        self.id = id
        self.family = family
        self.account = account
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.revokedAt = revokedAt
    }
}

/// Accounts and refresh tokens.
///
/// Names are unique without regard to case: `Alice` cannot register when `alice` exists.
/// Implementations must be safe to call from many tasks at once.
public protocol AccountStore: Sendable {
    /// Stores a new account; throws ``StoreError/nameTaken(_:)`` when the name (in any case) exists.
    func createAccount(_ account: Account) async throws

    /// The account with this name (matched without regard to case), or nil.
    func account(named name: String) async throws -> Account?

    /// Stores a newly issued refresh token.
    func insertRefreshToken(_ record: RefreshTokenRecord) async throws

    /// The refresh token with this id, or nil.
    func refreshToken(id: String) async throws -> RefreshTokenRecord?

    /// Marks the token used, atomically: returns true for the first caller only, false when it was
    /// already used or revoked (a reuse, which the caller answers by revoking the family).
    func markRefreshTokenUsed(id: String, at: Date) async throws -> Bool

    /// Revokes every token of the family that is not revoked yet.
    func revokeFamily(_ family: String, at: Date) async throws
}
