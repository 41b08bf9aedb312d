import Foundation
import PostgresNIO
import SQLiteNIO
import Testing
import WarrenCore

@testable import WarrenStore

/// The room store's contract and the step that brought rooms, on every configured backend.
@Suite("RoomStore on SQLite and PostgreSQL")
struct RoomStoreTests {
    static let at = Date(timeIntervalSince1970: 1_795_000_000)

    @Test("a room is made with its creator as member; its name is taken in any case", arguments: StoreTestEnvironment.backends)
    func createRoom(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let ops = try ChatRoom.named("Ops", visibility: .private, by: "alice", at: Self.at)
            #expect(ops.id == "ops")
            try await store.rooms.createRoom(ops)
            #expect(try await store.rooms.room(id: "ops") == ops)
            #expect(try await store.rooms.isMember(room: "ops", member: "ALICE"))
            #expect(try await !store.rooms.isMember(room: "ops", member: "bob"))
            let again = try ChatRoom.named("OPS", visibility: .public, by: "bob", at: Self.at)
            await #expect(throws: Refusal.self) { try await store.rooms.createRoom(again) }
            #expect(try await store.rooms.memberships(of: "alice").map(\.room.id) == ["general", "ops"])
            #expect(try await store.rooms.memberships(of: "bob").map(\.room.id) == ["general"])
            #expect(try await store.rooms.publicRooms(limit: 10).map(\.id) == ["general"])
        }
    }

    @Test("join, leave, the member limit of a private room and everyone's general", arguments: StoreTestEnvironment.backends)
    func membership(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let ops = try ChatRoom.named("ops", visibility: .private, by: "alice", at: Self.at)
            try await store.rooms.createRoom(ops)
            #expect(try await store.rooms.addMember("bob", to: ops, at: Self.at))
            #expect(try await !store.rooms.addMember("Bob", to: ops, at: Self.at))
            #expect(try await store.rooms.members(of: "ops", limit: 10) == ["alice", "bob"])
            for index in 2..<SharedRules.membersPerPrivateRoomMax {
                try await store.rooms.addMember("m\(index)", to: ops, at: Self.at)
            }
            await #expect(throws: MembershipRules.tooManyMembers(ops)) {
                try await store.rooms.addMember("one-too-many", to: ops, at: Self.at)
            }
            #expect(try await store.rooms.removeMember("BOB", from: "ops"))
            #expect(try await !store.rooms.removeMember("bob", from: "ops"))
            #expect(try await !store.rooms.isMember(room: "ops", member: "bob"))
            #expect(try await store.rooms.isMember(room: "general", member: "nobody-at-all"))
        }
    }

    @Test("a person belongs to at most the shared number of rooms, general included", arguments: StoreTestEnvironment.backends)
    func roomsPerPerson(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            for index in 1..<SharedRules.roomsPerPersonMax {
                try await store.rooms.createRoom(try ChatRoom.named("r\(index)", visibility: .public, by: "carol", at: Self.at))
            }
            #expect(try await store.rooms.memberships(of: "carol").count == SharedRules.roomsPerPersonMax)
            await #expect(throws: MembershipRules.tooManyRooms("carol")) {
                try await store.rooms.createRoom(try ChatRoom.named("one-more", visibility: .public, by: "carol", at: Self.at))
            }
            await #expect(throws: MembershipRules.tooManyRooms("carol")) {
                try await store.rooms.addMember("carol", to: try ChatRoom.named("x", visibility: .public, by: "dan", at: Self.at), at: Self.at)
            }
        }
    }

    @Test("a direct message: one stable room for both, whoever starts it", arguments: StoreTestEnvironment.backends)
    func directRoom(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let first = try await store.rooms.directRoom("alice", "carol", at: Self.at)
            let second = try await store.rooms.directRoom("Carol", "alice", at: Self.at)
            #expect(first.id == "dm.5.alice.carol")
            #expect(second.id == first.id)
            #expect(first.visibility == .direct)
            #expect(try await store.rooms.members(of: first.id, limit: 10) == ["alice", "carol"])
            #expect(try await !store.rooms.isMember(room: first.id, member: "bob"))
        }
    }

    @Test("read positions move forward only; unread counts others' posts and @mentions", arguments: StoreTestEnvironment.backends)
    func readPositionsAndUnread(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            let ops = try ChatRoom.named("ops", visibility: .public, by: "alice", at: Self.at)
            try await store.rooms.createRoom(ops)
            try await store.rooms.addMember("bob", to: ops, at: Self.at)
            var events = Samples.events(["one", "two @Bob look", "three", "mine"], from: "alice")
            for index in events.indices { events[index].room = "ops" }
            events[3].from = "bob"
            let elsewhere = Samples.events(["general chatter"], from: "alice")[0]
            try await store.events.insert(events + [RoomEvent(id: "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", kind: .message, from: "x", text: "late", at: Self.at)])
            #expect(try await store.events.unread(room: "ops", after: nil, reader: "bob", cap: 99) == UnreadCount(count: 3, mentioned: true))
            #expect(try await store.events.unread(room: "ops", after: nil, reader: "bob", cap: 2) == UnreadCount(count: 2, mentioned: true))
            #expect(try await store.rooms.markRead(room: "ops", member: "bob", upTo: events[1].id))
            #expect(try await !store.rooms.markRead(room: "ops", member: "bob", upTo: events[0].id), "never back")
            let read = try await store.rooms.memberships(of: "bob").first { $0.room.id == "ops" }?.readUpTo
            #expect(read == events[1].id)
            #expect(try await store.events.unread(room: "ops", after: read, reader: "bob", cap: 99) == UnreadCount(count: 1, mentioned: false))
            // Reads are per room: general's events are not ops'.
            #expect(try await store.events.latest(limit: 10, rooms: ["ops"]) == events)
            #expect(try await store.events.latest(limit: 10, rooms: ["general"]).map(\.text) == ["late"])
            #expect(try await store.events.search("chatter", limit: 10, rooms: ["ops"]).isEmpty)
            #expect(try await store.events.before(id: events[2].id, limit: 10, rooms: ["ops"]) == Array(events[0...1]))
            _ = elsewhere
            // general: a read position for someone with no account row yet.
            #expect(try await store.rooms.markRead(room: "general", member: "dora", upTo: events[0].id))
        }
    }

    @Test("step 2 on a database of step 1: accounts and events become general's", arguments: StoreTestEnvironment.backends)
    func migrationFromStepOne(backend: TestBackend) async throws {
        let database = try await ScratchDatabase.make(backend)
        do {
            let event = Samples.events(["from before rooms"])[0]
            let payload = try StoredEvent.payload(of: event)
            switch try StoreLocation(parsing: database.url) {
            case .sqlite(let path):
                let file = try await SQLiteDatabaseFile.open(path: path, logger: StoreTestEnvironment.logger)
                try await SQLiteMigrator.migrate(file, upTo: 1)
                _ = try await file.transaction { connection in
                    _ = try await connection.query(
                        "INSERT INTO accounts (name_key, name, password_hash, created_at) VALUES ('alice', 'Alice', 'x', 0)")
                    return try await connection.query(
                        "INSERT INTO events (id, at, kind, sender, text, payload) VALUES (?, 0, 'message', 'alice', ?, ?)",
                        [.text(event.id), .text(event.text), .text(payload)]
                    ).count
                }
                await file.close()
            case .postgres(let location):
                let server = try await PostgresServer.open(location, logger: StoreTestEnvironment.logger)
                try await PostgresMigrator.migrate(server, upTo: 1)
                _ = try await server.query("INSERT INTO accounts (name_key, name, password_hash, created_at) VALUES ('alice', 'Alice', 'x', now())")
                _ = try await server.query(
                    "INSERT INTO events (id, at, kind, sender, text, payload) VALUES (\(event.id), now(), 'message', 'alice', \(event.text), \(payload)::json)")
                await server.close()
            }
            let store = try await Store.open(url: database.url, logger: StoreTestEnvironment.logger)
            #expect(try await store.appliedVersions() == Array(1...Schema.version))
            #expect(try await store.events.latest(limit: 5, rooms: [ChatRoom.general]) == [event])
            #expect(try await store.rooms.members(of: ChatRoom.general, limit: 5) == ["Alice"])
            #expect(try await store.rooms.room(id: ChatRoom.general)?.visibility == .public)
            await store.close()
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }

    @Test("a new account belongs to general", arguments: StoreTestEnvironment.backends)
    func accountsJoinGeneral(backend: TestBackend) async throws {
        try await withScratchStore(backend) { store, _ async throws in
            try await store.accounts.createAccount(Account(name: "Zed", passwordHash: "h", createdAt: Self.at))
            #expect(try await store.rooms.members(of: ChatRoom.general, limit: 5) == ["Zed"])
            await #expect(throws: StoreError.nameTaken("zed")) {
                try await store.accounts.createAccount(Account(name: "zed", passwordHash: "h", createdAt: Self.at))
            }
        }
    }
}
