import Foundation
import Logging
import WarrenCore
import WarrenStore

/// The rooms of a rooms-mode run: `rooms` public rooms `r0`, `r1`, … in a SQLite store of the
/// run's own (in a temporary folder, removed by ``close()``), tab `t`'s person `bench<t>` a
/// member of room `t % rooms` (and of general, as everyone). The login service reads it, as a
/// deployment's reads the web role's store: at login it binds each person's exchange to their
/// rooms, and it checks every post's author against the room.
final class BenchRooms: Sendable {
    let store: Store
    let folder: URL

    private init(store: Store, folder: URL) {
        self.store = store
        self.folder = folder
    }

    /// The store's URL, for the login service's child process.
    var url: String { "sqlite:" + self.folder.appendingPathComponent("rooms.sqlite").path }

    /// Makes the store, the rooms and the memberships.
    static func make(tabs: Int, rooms: Int, logger: Logger) async throws -> BenchRooms {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warren-chat-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var quiet = logger
        quiet.logLevel = .warning
        let store: Store
        do {
            store = try await Store.open(url: "sqlite:" + folder.appendingPathComponent("rooms.sqlite").path, logger: quiet)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw ChatBenchError("cannot make the rooms' store in \(folder.path): \(error)")
        }
        let made = BenchRooms(store: store, folder: folder)
        do {
            let started = monotonicNanoseconds()
            var chatRooms: [ChatRoom] = []
            for index in 0..<rooms {
                // The room's first tab makes it (and is its first member).
                let room = try ChatRoom.named(ChatBench.Chat.roomID(index, of: rooms), visibility: .public, by: "bench\(index)", at: Date())
                try await store.rooms.createRoom(room)
                chatRooms.append(room)
            }
            for tab in rooms..<tabs {
                try await store.rooms.addMember("bench\(tab)", to: chatRooms[tab % rooms], at: Date())
            }
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            logger.notice("rooms made in the store", metadata: ["rooms": "\(rooms)", "members": "\(tabs)", "seconds": "\(String(format: "%.2f", seconds))"])
        } catch {
            await made.close()
            throw ChatBenchError("cannot make the rooms: \(error)")
        }
        return made
    }

    /// Closes the store and removes its folder.
    func close() async {
        await self.store.close()
        try? FileManager.default.removeItem(at: self.folder)
    }
}
