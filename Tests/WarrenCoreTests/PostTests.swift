import Foundation
import Testing
@testable import WarrenCore

@Suite("Posts and routing")
struct PostTests {
    static let session = "q83vEjRWeJCrze8SNFZ4kA"

    func post(_ text: String) -> InboxPost {
        InboxPost(text: text, clientId: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", login: "alice", session: PostTests.session)
    }

    @Test("suffixes choose the route and are stripped", arguments: [
        ("hello", PostRoute.plain, "hello"),
        ("hello !pow", .pow, "hello"),
        ("hello !rpc", .rpc, "hello"),
        ("hello!pow", .pow, "hello"),
        ("  hello   !rpc  ", .rpc, "hello"),
        ("hello !POW", .pow, "hello"),
        ("!pow in the middle", .plain, "!pow in the middle"),
        ("hello !pow !rpc", .rpc, "hello !pow"),
        ("hello pow", .plain, "hello pow"),
        ("hello !powder", .plain, "hello !powder"),
        ("line\n!pow", .pow, "line"),
    ])
    func routes(text: String, route: PostRoute, remaining: String) throws {
        let accepted = try post(text).validate()
        #expect(accepted.route == route)
        #expect(accepted.text == remaining)
    }

    @Test("routing keys")
    func routingKeys() {
        #expect(PostRoute.plain.routingKey == "post.plain")
        #expect(PostRoute.pow.routingKey == "post.pow")
        #expect(PostRoute.rpc.routingKey == "post.rpc")
        #expect(PostRoute(routingKey: "post.rpc") == .rpc)
        #expect(PostRoute(routingKey: "post.other") == nil)
        #expect(PostRoute.pow.proofVia == .queue)
        #expect(PostRoute.rpc.proofVia == .rpc)
        #expect(PostRoute.plain.proofVia == nil)
    }

    @Test("a post that is only a suffix is refused as empty", arguments: ["!pow", " !rpc ", "\n!pow"])
    func onlySuffix(text: String) {
        #expect(throws: Refusal.self) { try post(text).validate() }
        do {
            _ = try post(text).validate()
        } catch {
            #expect(error.code == .textEmpty)
            #expect(error.message.contains("!"))
        }
    }

    @Test("the length limit applies to the text without its suffix")
    func lengthWithoutSuffix() throws {
        let text = String(repeating: "y", count: 2_000)
        #expect(try post(text + " !pow").validate().text == text)
        #expect(throws: Refusal(.textTooLong, "The post is 2001 characters long; at most 2000 are allowed.")) {
            try post(text + "y !pow").validate()
        }
    }

    @Test("every field is checked", arguments: [
        (InboxPost(text: "hi", clientId: "c1", login: "", session: PostTests.session), Refusal.Code.loginEmpty),
        (InboxPost(text: "hi", clientId: "c1", login: "alice", session: "short"), .sessionTooShort),
        (InboxPost(text: "hi", clientId: "", login: "alice", session: PostTests.session), .clientIdEmpty),
        (InboxPost(text: "hi\u{7}", clientId: "c1", login: "alice", session: PostTests.session), .textControlCharacter),
        (InboxPost(text: "  ", clientId: "c1", login: "alice", session: PostTests.session), .textEmpty),
    ])
    func fieldRefusals(post: InboxPost, code: Refusal.Code) {
        do {
            _ = try post.validate()
            Issue.record("expected \(code)")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test("inbox JSON decodes and the accepted post becomes a message event")
    func inboxJSON() throws {
        let json = #"{"text":"hi there !rpc","clientId":"c-1","login":"bob","session":"q83vEjRWeJCrze8SNFZ4kA"}"#
        let accepted = try InboxPost.decode(json).validate()
        #expect(accepted.route == .rpc)
        let event = accepted.event(id: "01JF8Q9X3M4N5P6Q7R8S9T0V1W", at: Date(timeIntervalSince1970: 0))
        #expect(event.kind == .message)
        #expect(event.from == "bob")
        #expect(event.text == "hi there")
        #expect(event.clientId == "c-1")
    }

    @Test("a malformed inbox body is refused with a reason naming the field")
    func malformedInbox() {
        do {
            _ = try InboxPost.decode(#"{"text":"hi","login":"bob","session":"x"}"#)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .malformedRequest)
            #expect(error.message.contains("clientId"))
        }
        do {
            _ = try InboxPost.decode(#"{"text":5,"clientId":"c","login":"bob","session":"x"}"#)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .malformedRequest)
            #expect(error.message.contains("\"text\""))
        }
        do {
            _ = try InboxPost.decode("not json")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .malformedRequest)
        }
        do {
            _ = try InboxPost.decode([0x7B, 0xFF, 0x7D])
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .invalidUTF8)
        }
    }

    @Test("an oversized body is refused before parsing")
    func oversized() {
        let bytes = [UInt8](repeating: 0x20, count: Limits.requestMaxBytes + 1)
        do {
            _ = try InboxPost.decode(bytes)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .requestTooLarge)
        }
    }
}
