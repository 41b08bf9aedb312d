import Logging
import WarrenCore
import WarrenStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A signed-in session's tokens, as `/api/login`, `/api/register` and `/api/refresh` return them.
public struct TokenPair: Sendable, Hashable {
    /// The account name, as registered.
    public var name: String
    /// The access token: the STOMP passcode and the REST bearer token.
    public var accessToken: String
    /// When the access token expires (seconds since 1970).
    public var accessExpiresAt: Int64
    /// The refresh token: single use, exchanged for a new pair.
    public var refreshToken: String
    /// When the refresh token expires (seconds since 1970).
    public var refreshExpiresAt: Int64
}

/// Registration, sign-in, token rotation and sign-out, and the broker's "who is this?".
///
/// Holds no mutable state of its own beyond the throttles and the revoked-family list; accounts
/// and refresh tokens live in the ``AccountStore``. Passwords are hashed and checked on the
/// ``PasswordHashPool``, never on the caller's thread; a full pool refuses at once
/// (``AuthFailure/Code/busy``). The broker's questions (``authenticatesBroker(user:password:)``)
/// check tokens only and never hash.
public struct AccountService: Sendable {
    /// How long an access token lives: 15 minutes.
    public static let accessLifetime: Int64 = 15 * 60
    /// How long a refresh token lives: 7 days.
    public static let refreshLifetime: Int64 = 7 * 24 * 3600
    /// Names nobody may register: the broker's internal accounts and the old default.
    public static let reservedNames: Set<String> = ["warren", "warren-admin", "browser", "guest", "admin", "administrator"]

    let store: any AccountStore
    let signer: TokenSigner
    let hasher: PasswordHasher
    let throttle: LoginThrottle
    let registrations: RegistrationThrottle
    let hashing: PasswordHashPool
    /// Refusals for a full hashing queue, logged once a second with their count.
    let busyRefusals = OncePerSecond()
    let revoked: RevokedFamilies
    let now: @Sendable () -> Int64
    let logger: Logger
    let reserved: Set<String>
    private let decoy: String

    /// Creates the service.
    /// - Parameters:
    ///   - store: accounts and refresh tokens.
    ///   - key: the token signing key.
    ///   - hasher: the password hasher (tests pass one with few rounds).
    ///   - throttle: the failed sign-in counter.
    ///   - registrations: the registration counter, per address and in all.
    ///   - hashing: where passwords are hashed and checked (a pool of its own by default).
    ///   - revoked: families revoked by this process.
    ///   - now: the clock, in seconds since 1970; injected so tests can expire tokens.
    ///   - reservedNames: more names nobody may register, besides ``reservedNames``: the broker's
    ///     internal accounts of this deployment (the services' user), so no person can take one.
    ///   - logger: where refusals are logged (never with a password or a token).
    public init(
        store: any AccountStore,
        key: SigningKey,
        hasher: PasswordHasher = PasswordHasher(),
        throttle: LoginThrottle = LoginThrottle(),
        registrations: RegistrationThrottle = RegistrationThrottle(),
        hashing: PasswordHashPool = PasswordHashPool(),
        revoked: RevokedFamilies = RevokedFamilies(),
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        reservedNames: Set<String> = [],
        logger: Logger = Logger(label: "warren.auth")
    ) {
        self.reserved = Self.reservedNames.union(reservedNames.map { $0.lowercased() })
        self.store = store
        self.signer = TokenSigner(key: key)
        self.hasher = hasher
        self.throttle = throttle
        self.registrations = registrations
        self.hashing = hashing
        self.revoked = revoked
        self.now = now
        self.logger = logger
        self.decoy = hasher.decoyHash()
    }

    // MARK: Accounts

    /// Makes an account and signs it in.
    /// - Parameter address: the client's address, for the per-address throttle; nil counts only
    ///   toward the ceiling of all registrations.
    public func register(name: String, password: String, address: String? = nil) async throws(AuthFailure) -> TokenPair {
        // Before anything about the name is looked at, so a refusal says nothing about it.
        if let wait = self.registrations.admit(address: address, now: self.now()) {
            self.logger.debug("registration throttled", metadata: ["address": "\(address ?? "-")", "retryAfter": "\(wait)"])
            throw AuthFailure(.throttled, "Too many registrations just now; try again in \(Self.seconds(wait)).", retryAfter: wait)
        }
        let name = try Self.checkName(name)
        try PasswordRules.check(password)
        if self.reserved.contains(name.lowercased()) {
            throw AuthFailure(.nameTaken, "The name \"\(name)\" is reserved; choose another.")
        }
        let hasher = self.hasher
        let hashed: String?
        do {
            hashed = try await self.hashing.run { try? hasher.hash(password) }
        } catch {
            throw self.busy(error)
        }
        guard let hash = hashed else {
            throw AuthFailure(.unavailable, "The password could not be hashed; try again.")
        }
        do {
            try await self.store.createAccount(Account(name: name, passwordHash: hash, createdAt: Date()))
        } catch StoreError.nameTaken(_) {
            throw AuthFailure(.nameTaken, "The name \"\(name)\" is taken; choose another.")
        } catch {
            throw self.unavailable(error)
        }
        self.logger.info("account registered", metadata: ["name": "\(name)"])
        return try await self.issue(for: name, family: SecureRandom.id())
    }

    /// Checks a name and password and signs in.
    /// - Parameter address: the client's address, for the per-address throttle.
    public func login(name: String, password: String, address: String?) async throws(AuthFailure) -> TokenPair {
        let now = self.now()
        if let wait = self.throttle.retryAfter(name: name, address: address, now: now) {
            throw AuthFailure(.throttled, "Too many failed sign-ins; try again in \(wait) seconds.", retryAfter: wait)
        }
        let account: Account?
        do {
            account = (try? Validation.login(name)) == nil || password.utf8.count > PasswordRules.maximumBytes
                ? nil : try await self.store.account(named: name)
        } catch {
            throw self.unavailable(error)
        }
        // An unknown name costs the same hashing time as a wrong password.
        let hasher = self.hasher
        let encoded = account?.passwordHash ?? self.decoy
        let matches: Bool
        do {
            matches = try await self.hashing.run { hasher.verify(password, against: encoded) }
        } catch {
            throw self.busy(error)
        }
        guard let account, matches else {
            self.throttle.recordFailure(name: name, address: address, now: now)
            self.logger.info("sign-in refused", metadata: ["name": "\(name.prefix(64))", "address": "\(address ?? "-")"])
            throw AuthFailure.invalidCredentials
        }
        self.throttle.recordSuccess(name: name)
        return try await self.issue(for: account.name, family: SecureRandom.id())
    }

    // MARK: Tokens

    /// Exchanges a refresh token for a new pair. A token used twice ends its whole family.
    public func refresh(_ token: String) async throws(AuthFailure) -> TokenPair {
        let claims = try self.verified(token, as: .refresh)
        let record: RefreshTokenRecord?
        do {
            record = try await self.store.refreshToken(id: claims.id)
        } catch {
            throw self.unavailable(error)
        }
        guard let record, record.account == claims.subject, record.family == claims.family, record.revokedAt == nil else {
            throw AuthFailure(.invalidToken, "The session has ended; sign in again.")
        }
        let first: Bool
        do {
            first = try await self.store.markRefreshTokenUsed(id: claims.id, at: Date(timeIntervalSince1970: TimeInterval(self.now())))
        } catch {
            throw self.unavailable(error)
        }
        guard first else {
            try await self.revokeFamily(claims.family)
            self.logger.warning("refresh token reused: family revoked", metadata: ["name": "\(claims.subject)", "family": "\(claims.family)"])
            throw AuthFailure(.tokenReused, "This sign-in was used twice, so every session of it has ended; sign in again.")
        }
        return try await self.issue(for: claims.subject, family: claims.family)
    }

    /// Signs out: revokes the family of the given refresh or access token, expired or not.
    /// - Returns: the name signed out.
    @discardableResult
    public func logout(refreshToken: String?, accessToken: String?) async throws(AuthFailure) -> String {
        // Expired or already revoked tokens still sign out: revoking again only takes rights away.
        let now = self.now()
        let claims =
            refreshToken.flatMap { try? self.signer.verify($0, as: .refresh, now: now, allowingExpired: true) }
            ?? accessToken.flatMap { try? self.signer.verify($0, as: .access, now: now, allowingExpired: true) }
        guard let claims else {
            throw AuthFailure(.invalidToken, "No valid token was given; nothing to sign out.")
        }
        try await self.revokeFamily(claims.family)
        self.logger.info("signed out", metadata: ["name": "\(claims.subject)"])
        return claims.subject
    }

    /// The claims of a valid, unrevoked access token (for the REST API).
    public func authorize(accessToken: String) throws(AuthFailure) -> TokenClaims {
        try self.verified(accessToken, as: .access)
    }

    /// The broker's question: may `user` connect with `password`? True only for an unexpired,
    /// unrevoked access token issued to exactly that name. No I/O: this runs on every CONNECT.
    public func authenticatesBroker(user: String, password: String) -> Bool {
        guard let claims = try? self.verified(password, as: .access) else { return false }
        return claims.subject == user
    }

    private func verified(_ token: String, as type: TokenType) throws(AuthFailure) -> TokenClaims {
        let now = self.now()
        let claims: TokenClaims
        do {
            claims = try self.signer.verify(token, as: type, now: now)
        } catch {
            self.logger.debug("token refused", metadata: ["reason": "\(error)", "type": "\(type.rawValue)"])
            throw AuthFailure(.invalidToken, "The \(type.rawValue) token is invalid or expired; sign in again.")
        }
        guard !self.revoked.isRevoked(claims.family, now: now) else {
            throw AuthFailure(.invalidToken, "The session has ended; sign in again.")
        }
        return claims
    }

    private func revokeFamily(_ family: String) async throws(AuthFailure) {
        let now = self.now()
        self.revoked.revoke(family, until: now + Self.accessLifetime + TokenSigner.allowedSkew, now: now)
        do {
            try await self.store.revokeFamily(family, at: Date(timeIntervalSince1970: TimeInterval(now)))
        } catch {
            throw self.unavailable(error)
        }
    }

    private func issue(for name: String, family: String) async throws(AuthFailure) -> TokenPair {
        let now = self.now()
        let access = TokenClaims(
            subject: name, issuedAt: now, expiresAt: now + Self.accessLifetime, id: SecureRandom.id(), type: .access, family: family
        )
        let refresh = TokenClaims(
            subject: name, issuedAt: now, expiresAt: now + Self.refreshLifetime, id: SecureRandom.id(), type: .refresh, family: family
        )
        do {
            try await self.store.insertRefreshToken(
                RefreshTokenRecord(id: refresh.id, family: family, account: name, expiresAt: refresh.expiryDate)
            )
        } catch {
            throw self.unavailable(error)
        }
        return TokenPair(
            name: name,
            accessToken: self.signer.sign(access), accessExpiresAt: access.expiresAt,
            refreshToken: self.signer.sign(refresh), refreshExpiresAt: refresh.expiresAt
        )
    }

    private func unavailable(_ error: any Error) -> AuthFailure {
        self.logger.error("account store failed", metadata: ["error": "\(error)"])
        return AuthFailure(.unavailable, "Accounts are unavailable just now; try again shortly.")
    }

    private static func checkName(_ name: String) throws(AuthFailure) -> String {
        do {
            return try Validation.login(name)
        } catch {
            throw AuthFailure(.invalidName, error.message)
        }
    }

    /// "a second", "12 seconds".
    private static func seconds(_ count: Int64) -> String { count == 1 ? "a second" : "\(count) seconds" }

    private func busy(_ full: PasswordHashPool.Full) -> AuthFailure {
        if let count = self.busyRefusals.counted(now: self.now()) {
            self.logger.warning(
                "password checks refused: the hashing queue is full",
                metadata: ["refused": "\(count)", "threads": "\(self.hashing.threads.map(String.init) ?? "-")", "queue": "\(self.hashing.queueCapacity.map(String.init) ?? "-")"]
            )
        }
        return AuthFailure(
            .busy, "The server is busy checking other passwords; try again in \(Self.seconds(full.retryAfter)).",
            retryAfter: full.retryAfter
        )
    }
}
