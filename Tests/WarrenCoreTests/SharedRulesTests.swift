import Foundation
import Testing
@testable import WarrenCore

/// The rules the page and the server share: `web/rules.json` (which the page imports and
/// scripts/gen-rules turns into ``SharedRules``) and the cases both sides must decide alike,
/// `web/rules-vectors.json` (which web/test/app-rules.test.js runs through the page's checks).
@Suite("Rules shared with the page")
struct SharedRulesTests {
    /// The repository: this file is `Tests/WarrenCoreTests/SharedRulesTests.swift` in it.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    static func webFile(_ name: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent("web").appendingPathComponent(name))
    }

    // MARK: - web/rules.json and the generated SharedRules

    /// web/rules.json; its keys are SharedRules' names.
    struct RulesFile: Decodable {
        enum CodingKeys: String, CodingKey, CaseIterable {
            case loginMinLength, loginMaxLength, loginCharacters
            case sessionMinLength, sessionMaxLength, sessionCharacters
            case clientIdMinLength, clientIdMaxLength, clientIdCharacters
            case textMinCharacters, textMaxCharacters
            case proofSuffixes, proofSuffixCaseInsensitive
            case backfillCount, historyLimitMax, historyQueryMaxCharacters
            case roomNameMinLength, roomNameMaxLength, roomNameCharacters, roomIdMaxLength
            case generalRoom, directRoomPrefix, roomsPerPersonMax, membersPerPrivateRoomMax
            case typingIntervalMs, typingShownMs, roomNoticeTtlMs
            case streamPrefetch, streamAckEvery
        }

        let loginMinLength: Int
        let loginMaxLength: Int
        let loginCharacters: String
        let sessionMinLength: Int
        let sessionMaxLength: Int
        let sessionCharacters: String
        let clientIdMinLength: Int
        let clientIdMaxLength: Int
        let clientIdCharacters: String
        let textMinCharacters: Int
        let textMaxCharacters: Int
        let proofSuffixes: [String: String]
        let proofSuffixCaseInsensitive: Bool
        let backfillCount: Int
        let historyLimitMax: Int
        let historyQueryMaxCharacters: Int
        let roomNameMinLength: Int
        let roomNameMaxLength: Int
        let roomNameCharacters: String
        let roomIdMaxLength: Int
        let generalRoom: String
        let directRoomPrefix: String
        let roomsPerPersonMax: Int
        let membersPerPrivateRoomMax: Int
        let typingIntervalMs: Int
        let typingShownMs: Int
        let roomNoticeTtlMs: Int
        let streamPrefetch: Int
        let streamAckEvery: Int
    }

    @Test("the generated SharedRules hold web/rules.json's values (run scripts/gen-rules after changing it)")
    func generatedMatchesJSON() throws {
        let data = try Self.webFile("rules.json")
        let rules = try JSONDecoder().decode(RulesFile.self, from: data)
        #expect(SharedRules.loginMinLength == rules.loginMinLength)
        #expect(SharedRules.loginMaxLength == rules.loginMaxLength)
        #expect(SharedRules.loginCharacters == rules.loginCharacters)
        #expect(SharedRules.sessionMinLength == rules.sessionMinLength)
        #expect(SharedRules.sessionMaxLength == rules.sessionMaxLength)
        #expect(SharedRules.sessionCharacters == rules.sessionCharacters)
        #expect(SharedRules.clientIdMinLength == rules.clientIdMinLength)
        #expect(SharedRules.clientIdMaxLength == rules.clientIdMaxLength)
        #expect(SharedRules.clientIdCharacters == rules.clientIdCharacters)
        #expect(SharedRules.textMinCharacters == rules.textMinCharacters)
        #expect(SharedRules.textMaxCharacters == rules.textMaxCharacters)
        #expect(SharedRules.proofSuffixes == rules.proofSuffixes)
        #expect(SharedRules.proofSuffixCaseInsensitive == rules.proofSuffixCaseInsensitive)
        #expect(SharedRules.backfillCount == rules.backfillCount)
        #expect(SharedRules.historyLimitMax == rules.historyLimitMax)
        #expect(SharedRules.historyQueryMaxCharacters == rules.historyQueryMaxCharacters)
        #expect(SharedRules.roomNameMinLength == rules.roomNameMinLength)
        #expect(SharedRules.roomNameMaxLength == rules.roomNameMaxLength)
        #expect(SharedRules.roomNameCharacters == rules.roomNameCharacters)
        #expect(SharedRules.roomIdMaxLength == rules.roomIdMaxLength)
        #expect(SharedRules.generalRoom == rules.generalRoom)
        #expect(SharedRules.directRoomPrefix == rules.directRoomPrefix)
        #expect(SharedRules.roomsPerPersonMax == rules.roomsPerPersonMax)
        #expect(SharedRules.membersPerPrivateRoomMax == rules.membersPerPrivateRoomMax)
        #expect(SharedRules.typingIntervalMs == rules.typingIntervalMs)
        #expect(SharedRules.typingShownMs == rules.typingShownMs)
        #expect(SharedRules.roomNoticeTtlMs == rules.roomNoticeTtlMs)
        #expect(SharedRules.streamPrefetch == rules.streamPrefetch)
        #expect(SharedRules.streamAckEvery == rules.streamAckEvery)
        #expect(SharedRules.streamAckEvery < SharedRules.streamPrefetch)

        // A key added to the JSON needs a line above (and the generator's output) too.
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let keys = Set(object.keys.filter { !$0.hasPrefix("$") })
        #expect(keys == Set(RulesFile.CodingKeys.allCases.map(\.rawValue)))
    }

    @Test("the server's own limits and routes are the shared ones")
    func serverAgrees() throws {
        #expect(Limits.loginMinLength == SharedRules.loginMinLength)
        #expect(Limits.loginMaxLength == SharedRules.loginMaxLength)
        #expect(Limits.sessionMinLength == SharedRules.sessionMinLength)
        #expect(Limits.sessionMaxLength == SharedRules.sessionMaxLength)
        #expect(Limits.clientIdMinLength == SharedRules.clientIdMinLength)
        #expect(Limits.clientIdMaxLength == SharedRules.clientIdMaxLength)
        #expect(Limits.textMinCharacters == SharedRules.textMinCharacters)
        #expect(Limits.textMaxCharacters == SharedRules.textMaxCharacters)
        #expect(Limits.backfillCount == SharedRules.backfillCount)
        #expect(Limits.historyLimitMax == SharedRules.historyLimitMax)
        #expect(Limits.historyQueryMaxCharacters == SharedRules.historyQueryMaxCharacters)

        let routes = PostRoute.allCases.filter { $0 != .plain }
        #expect(Set(SharedRules.proofSuffixes.keys) == Set(routes.map(\.rawValue)))
        for route in routes {
            #expect(SharedRules.proofSuffixes[route.rawValue] == "!" + route.rawValue)
        }

        // Every ASCII character is in a character set exactly when Validation allows it.
        let sets: [(String, String, (Unicode.Scalar) -> Bool)] = [
            ("login", SharedRules.loginCharacters, Validation.isLoginScalar),
            ("session", SharedRules.sessionCharacters, Validation.isSessionScalar),
            ("clientId", SharedRules.clientIdCharacters, Validation.isLoginScalar),
        ]
        for (name, characters, allowed) in sets {
            let pattern = try NSRegularExpression(pattern: "^[\(characters)]$")
            for value in UInt8(0)..<UInt8(128) {
                let scalar = Unicode.Scalar(value)
                let text = String(Character(scalar))
                let matches = pattern.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count)) != nil
                #expect(matches == allowed(scalar), "\(name): U+\(String(value, radix: 16))")
            }
        }
    }

    // MARK: - web/rules-vectors.json through the server's validation

    /// An input or an expected text: a string, or parts joined (strings, or [string, times]).
    struct Text: Decodable {
        enum Part: Decodable {
            case text(String)
            case repeated(String, Int)

            init(from decoder: any Decoder) throws {
                let single = try decoder.singleValueContainer()
                if let text = try? single.decode(String.self) {
                    self = .text(text)
                    return
                }
                var pair = try decoder.unkeyedContainer()
                let text = try pair.decode(String.self)
                let times = try pair.decode(Int.self)
                self = .repeated(text, times)
            }

            var value: String {
                switch self {
                case .text(let text): text
                case .repeated(let text, let times): String(repeating: text, count: times)
                }
            }
        }

        let value: String

        init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            if let text = try? single.decode(String.self) {
                value = text
            } else {
                value = try single.decode([Part].self).map(\.value).joined()
            }
        }
    }

    struct Vector: Decodable {
        let input: Text
        let ok: Bool
        let code: String?
        let message: String?
        let route: String?
        let text: Text?
        let note: String
    }

    struct Vectors: Decodable {
        struct Poster: Decodable {
            let login: String
            let session: String
            let clientId: String
        }

        let post: Poster
        let login: [Vector]
        let session: [Vector]
        let posts: [Vector]
    }

    static func vectors() throws -> Vectors {
        try JSONDecoder().decode(Vectors.self, from: webFile("rules-vectors.json"))
    }

    /// The refusal `body` throws, nil when it returns.
    static func refusal(_ body: () throws -> Void) -> Refusal? {
        do {
            try body()
            return nil
        } catch let refusal as Refusal {
            return refusal
        } catch {
            Issue.record("not a Refusal: \(error)")
            return nil
        }
    }

    static func check(_ vector: Vector, _ refusal: Refusal?, _ kind: String) {
        let what = "\(kind) vector '\(vector.note)'"
        if vector.ok {
            #expect(refusal == nil, "\(what) was refused: \(refusal?.description ?? "")")
        } else {
            #expect(refusal?.code.rawValue == vector.code, "\(what)")
            #expect(refusal?.message == vector.message, "\(what)")
        }
    }

    @Test("every login-name vector")
    func loginVectors() throws {
        let vectors = try Self.vectors()
        #expect(!vectors.login.isEmpty)
        for vector in vectors.login {
            let refusal = Self.refusal { _ = try Validation.login(vector.input.value) }
            Self.check(vector, refusal, "login")
        }
    }

    @Test("every session-id vector")
    func sessionVectors() throws {
        let vectors = try Self.vectors()
        #expect(!vectors.session.isEmpty)
        for vector in vectors.session {
            let refusal = Self.refusal { _ = try Validation.session(vector.input.value) }
            Self.check(vector, refusal, "session")
        }
    }

    @Test("every post vector: verdict, refusal, route and published text")
    func postVectors() throws {
        let vectors = try Self.vectors()
        #expect(!vectors.posts.isEmpty)
        let poster = vectors.post
        for vector in vectors.posts {
            var accepted: AcceptedPost?
            let refusal = Self.refusal {
                let post = InboxPost(text: vector.input.value, clientId: poster.clientId, login: poster.login, session: poster.session)
                accepted = try post.validate()
            }
            Self.check(vector, refusal, "post")
            if vector.ok {
                #expect(accepted?.route.rawValue == vector.route, "post vector '\(vector.note)'")
                #expect(accepted?.text == vector.text?.value, "post vector '\(vector.note)'")
            }
        }
    }
}
