import Foundation
import Testing
@testable import WarrenAuth

@Suite("Signing key")
struct SigningKeyTests {
    func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("warren-key-\(UUID().uuidString)").path
    }

    @Test func aConfiguredKeyIsUsedAsItIs() throws {
        let bytes = Array(repeating: UInt8(3), count: 40)
        #expect(try SigningKey.load(configured: bytes, file: "/nonexistent/never/auth.key").bytes == bytes)
    }

    @Test func aShortConfiguredKeyIsRefused() {
        #expect(throws: SigningKeyError.self) { try SigningKey.load(configured: [1, 2, 3], file: "/nonexistent/auth.key") }
    }

    @Test func aKeyIsMadeOnceWithMode600AndKept() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/state/auth.key"
        let first = try SigningKey.load(configured: nil, file: file)
        let second = try SigningKey.load(configured: nil, file: file)
        #expect(first == second)
        #expect(first.bytes.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder + "/state")
        #expect(leftovers == ["auth.key"])
    }

    @Test func aDamagedKeyFileIsAnErrorNamingTheFile() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = folder + "/auth.key"
        try Data("c2hvcnQ=\n".utf8).write(to: URL(fileURLWithPath: file))
        do {
            _ = try SigningKey.load(configured: nil, file: file)
            Issue.record("a short key was accepted")
        } catch {
            #expect(error.description.contains(file))
        }
    }
}
