#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import Foundation

/// The secret that signs Warren's tokens: at least 32 random bytes.
public struct SigningKey: Sendable, Hashable {
    /// The fewest bytes a key may have (HS256's hash size).
    public static let minimumBytes = 32

    /// The key.
    public let bytes: [UInt8]

    /// Wraps key bytes; nil when there are fewer than ``minimumBytes``.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= Self.minimumBytes else { return nil }
        self.bytes = bytes
    }

    /// A new random key of 32 bytes.
    public static func generate() -> SigningKey {
        SigningKey(bytes: SecureRandom.bytes(32))!
    }

    /// The key from the configuration when it has one, else the one kept in `file`, made there
    /// (mode 600, in a folder made with mode 700) on first use.
    ///
    /// Every web role of one deployment must share the key: a token signed by one is checked by
    /// another. Set `WARREN_AUTH_KEY` when the roles do not share a state folder.
    /// - Throws: ``SigningKeyError`` naming the file and what is wrong with it.
    public static func load(configured: [UInt8]?, file: String) throws(SigningKeyError) -> SigningKey {
        if let configured {
            guard let key = SigningKey(bytes: configured) else {
                throw SigningKeyError("WARREN_AUTH_KEY has \(configured.count) bytes; at least \(minimumBytes) are needed")
            }
            return key
        }
        if let existing = try read(file) { return existing }
        let key = generate()
        do {
            try create(file, contents: key.bytes)
            return key
        } catch let error as SigningKeyError where error.alreadyExists {
            // Another process made it first: use theirs.
            guard let theirs = try read(file) else { throw SigningKeyError("\(file) vanished while it was being made") }
            return theirs
        } catch let error as SigningKeyError {
            throw error
        } catch {
            throw SigningKeyError("\(file): \(error)")
        }
    }

    private static func read(_ file: String) throws(SigningKeyError) -> SigningKey? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SigningKeyError("\(file) exists but cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let decoded = Data(base64Encoded: text), let key = SigningKey(bytes: Array(decoded)) else {
            throw SigningKeyError("\(file) does not hold a base64 key of at least \(minimumBytes) bytes; delete it to make a new one (every session then ends)")
        }
        return key
    }

    private static func create(_ file: String, contents: [UInt8]) throws {
        let folder = (file as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        // Written whole under a private name, then linked into place: a reader never sees half a
        // key, and link() fails with EEXIST when another process got there first.
        let temporary = file + ".tmp-" + SecureRandom.id()
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw SigningKeyError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        defer { unlink(temporary) }
        let text = Array((Data(contents).base64EncodedString() + "\n").utf8)
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == text.count, synced == 0 else { throw SigningKeyError("cannot write \(temporary)") }
        if link(temporary, file) != 0 {
            let code = errno
            throw SigningKeyError("cannot create \(file): \(String(cString: strerror(code)))", alreadyExists: code == EEXIST)
        }
    }
}

/// The signing key could not be loaded or made.
public struct SigningKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, naming the file or variable.
    public var description: String
    let alreadyExists: Bool

    init(_ description: String, alreadyExists: Bool = false) {
        self.description = description
        self.alreadyExists = alreadyExists
    }
}
