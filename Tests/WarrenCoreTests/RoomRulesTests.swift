import Foundation
import Testing

@testable import WarrenCore

@Suite("Rooms: names, ids, direct messages and membership rules")
struct RoomRulesTests {
    @Test("room names are checked like login names, and dm. is reserved")
    func names() throws {
        #expect(try Validation.roomName("Ops-2.b_c") == "Ops-2.b_c")
        #expect(throws: Refusal.self) { try Validation.roomName("") }
        #expect(throws: Refusal.self) { try Validation.roomName("a b") }
        #expect(throws: Refusal.self) { try Validation.roomName(String(repeating: "a", count: SharedRules.roomNameMaxLength + 1)) }
        #expect(throws: Refusal.self) { try Validation.roomName("DM.x") }
        #expect(try ChatRoom.named("Ops", visibility: .private, by: "alice", at: Date()).id == "ops")
        #expect(throws: Refusal.self) { try ChatRoom.named("x", visibility: .direct, by: "alice", at: Date()) }
    }

    @Test("direct-message ids are stable, sorted, lowercase and unambiguous with dotted names")
    func directIDs() throws {
        #expect(try DirectRoom.id("Bob", "alice") == "dm.5.alice.bob")
        #expect(try DirectRoom.id("alice", "bob") == DirectRoom.id("BOB", "Alice"))
        #expect(try DirectRoom.id("a.b", "c") != DirectRoom.id("a", "b.c"))
        #expect(throws: Refusal.self) { try DirectRoom.id("alice", "ALICE") }
        let id = try DirectRoom.id("a.b", "c")
        #expect(DirectRoom.members(of: id)! == ("a.b", "c"))
        #expect(DirectRoom.members(of: "dm.9.alice.bob") == nil)
        #expect(DirectRoom.members(of: "general") == nil)
        #expect(try Validation.roomID(id) == id)
        #expect(try Validation.roomID("General") == "general")
        #expect(throws: Refusal.self) { try Validation.roomID("dm.1.a") }
        #expect(throws: Refusal.self) { try Validation.roomID("room with space") }
        #expect(try DirectRoom.id(String(repeating: "a", count: 32), String(repeating: "b", count: 32)).count <= SharedRules.roomIdMaxLength)
    }

    @Test("who may join, invite, leave, remove and post")
    func membership() throws {
        let open = try ChatRoom.named("lobby", visibility: .public, by: "alice", at: Date())
        let closed = try ChatRoom.named("ops", visibility: .private, by: "alice", at: Date())
        let direct = ChatRoom(id: try DirectRoom.id("a", "b"), name: "a, b", visibility: .direct, createdBy: "a", createdAt: Date())
        #expect(MembershipRules.joinRefusal(open) == nil)
        #expect(MembershipRules.joinRefusal(closed)?.code == .roomPrivate)
        #expect(MembershipRules.joinRefusal(direct)?.code == .roomPrivate)
        #expect(MembershipRules.inviteRefusal(closed, inviterIsMember: true) == nil)
        #expect(MembershipRules.inviteRefusal(closed, inviterIsMember: false)?.code == .roomNotMember)
        #expect(MembershipRules.inviteRefusal(direct, inviterIsMember: true)?.code == .roomPrivate)
        #expect(MembershipRules.leaveRefusal(closed) == nil)
        let general = ChatRoom(id: ChatRoom.general, name: "general", visibility: .public, createdBy: "warren", createdAt: Date())
        #expect(MembershipRules.leaveRefusal(general)?.code == .roomCannotLeave)
        #expect(MembershipRules.removeRefusal(closed, remover: "alice", member: "bob") == nil)
        #expect(MembershipRules.removeRefusal(open, remover: "alice", member: "bob") == nil)
        #expect(MembershipRules.removeRefusal(closed, remover: "bob", member: "carol")?.code == .roomNotCreator)
        #expect(MembershipRules.removeRefusal(closed, remover: "alice", member: "alice")?.code == .roomInvalid)
        #expect(MembershipRules.removeRefusal(general, remover: "warren", member: "bob")?.code == .roomCannotLeave)
        #expect(MembershipRules.removeRefusal(direct, remover: "a", member: "b")?.code == .roomPrivate)
        #expect(MembershipRules.mayPost(roomID: "general", isMember: false))
        #expect(!MembershipRules.mayPost(roomID: "ops", isMember: false))
        #expect(MembershipRules.memberLimit(open) == nil)
        #expect(MembershipRules.memberLimit(closed) == SharedRules.membersPerPrivateRoomMax)
        #expect(MembershipRules.memberLimit(direct) == 2)
    }

    @Test("events, posts and jobs carry their room; general's is left out of the JSON")
    func wire() throws {
        let event = RoomEvent(id: "A", kind: .message, from: "x", text: "t", at: Date(timeIntervalSince1970: 0), room: "ops")
        #expect(event.encodedString().contains(#""room":"ops""#))
        #expect(try RoomEvent.decode(Array(event.encodedString().utf8)) == event)
        var general = event
        general.room = ChatRoom.general
        #expect(!general.encodedString().contains("room"))
        #expect(try RoomEvent.decode(Array(general.encodedString().utf8)).room == ChatRoom.general)
        let post = InboxPost(text: "hi", clientId: "c", login: "alice", session: String(repeating: "A", count: 22), room: "Ops")
        #expect(try post.validate().room == "ops")
        #expect(try InboxPost(text: "hi", clientId: "c", login: "alice", session: String(repeating: "A", count: 22)).validate().room == "general")
        let request = HistoryRequest(.latest, limit: 5, rooms: ["ops", "general"])
        #expect(try HistoryRequest.decode(Array(request.encodedString().utf8)) == request)
        #expect(throws: Refusal.self) { try HistoryRequest(.latest, limit: 5, rooms: ["bad room"]).validate() }
        #expect(HistoryRequest(.latest, limit: 5).roomsToRead == ["general"])
        #expect(!EventKind.typing.isStored)
        #expect(EventKind.message.isStored)
    }
}
