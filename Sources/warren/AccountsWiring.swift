import Logging
import WarrenAuth
import WarrenCore
import WarrenStore

import Foundation

/// Wires the configuration into the web role's accounts: loads the signing key, opens the store
/// and builds the account service.
enum AccountsWiring {
    /// Loads (or makes) the signing key, opens and migrates the store and builds the service.
    /// Close the returned store when the web role stops.
    static func open(_ configuration: WarrenConfiguration, logger: Logger) async throws -> (AccountService, Store) {
        let store: Store
        do {
            store = try await Store.open(url: configuration.databaseURL, logger: logger)
        } catch {
            throw CommandFailure("accounts store (WARREN_DATABASE_URL): \(error)")
        }
        do {
            return (try service(configuration, store: store, logger: logger), store)
        } catch {
            await store.close()
            throw error
        }
    }

    /// Loads (or makes) the signing key and builds the service on a store that is already open
    /// (`warren up` shares one with the history role).
    static func service(_ configuration: WarrenConfiguration, store: Store, logger: Logger) throws -> AccountService {
        let key: SigningKey
        do {
            key = try SigningKey.load(configured: configuration.authKey, file: configuration.authKeyFile)
        } catch {
            throw CommandFailure("signing key: \(error)")
        }
        // The services' broker account is no name a person may take.
        let serviceUser = URLComponents(string: configuration.amqpURLs[0])?.user
        let accounts = AccountService(
            store: store.accounts, key: key,
            registrations: RegistrationThrottle(perAddress: configuration.registerPerAddress, overall: configuration.registerPerMinute),
            hashing: hashPool(configuration, logger: logger),
            reservedNames: Set([serviceUser].compactMap { $0 }), logger: logger
        )
        return accounts
    }

    /// The password hashing pool of `WARREN_HASH_THREADS` and `WARREN_HASH_QUEUE`.
    static func hashPool(_ configuration: WarrenConfiguration, logger: Logger) -> PasswordHashPool {
        let threads: Int
        switch configuration.hashThreads {
        case .off:
            logger.warning("WARREN_HASH_THREADS=off: passwords are hashed on shared threads without a bound (for comparison only)")
            return PasswordHashPool.unbounded()
        case .auto: threads = PasswordHashPool.defaultThreads
        case .count(let count): threads = count
        }
        logger.info("password hashing", metadata: ["threads": "\(threads)", "queue": "\(configuration.hashQueue)"])
        return PasswordHashPool(threads: threads, queueCapacity: configuration.hashQueue)
    }
}
