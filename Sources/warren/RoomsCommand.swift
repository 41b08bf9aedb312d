import ArgumentParser
import NIOHTTP1
import WarrenCore
import WarrenWeb

import Foundation

/// `warren rooms`: rooms and direct messages as a person, through the web role's REST API
/// (docs/api.md#rooms-and-direct-messages), with the same rules as the page.
struct RoomsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rooms",
        abstract: "List, create, join, leave rooms; invite, remove; start a direct message; search your rooms.",
        discussion: """
            Speaks the web role's REST API as the person whose access token --token-file holds \
            (the accessToken of POST /api/login; - reads it from standard input), at --url \
            (http://127.0.0.1:WARREN_HTTP_PORT by default). Each change is made in the store and \
            then on the broker, so every open tab of the person follows at once. A refusal \
            (a private room, a limit, a name taken) is printed with its code and ends with \
            status 1. Post to a room with `warren send --room ID`.
            """,
        subcommands: [List.self, Create.self, Join.self, Leave.self, Invite.self, Remove.self, Direct.self, Members.self, Search.self],
        defaultSubcommand: List.self
    )

    /// What every rooms subcommand takes.
    struct APIOptions: ParsableArguments {
        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("A file holding the person's access token (- for standard input).", valueName: "file"))
        var tokenFile: String

        @Option(help: ArgumentHelp("The web role's address (default: http://127.0.0.1:WARREN_HTTP_PORT).", valueName: "url"))
        var url: String?

        @Flag(help: "Print the API's JSON answer instead.")
        var json = false

        /// Sends one request and prints the answer (the JSON with --json, else `describe`'s lines).
        func call(_ method: HTTPMethod, _ path: String, _ body: [String: String]? = nil, describe: ([String: Any]) -> [String]) async throws {
            let configuration = try self.options.bootstrap()
            let client = try APIClient(url: self.url ?? "http://127.0.0.1:\(configuration.httpPort)", token: try TokenFile.read(self.tokenFile))
            let answer = try await client.call(method, path, json: body)
            let object = try answer.checked()
            if self.json {
                writeLine(String(decoding: answer.body, as: UTF8.self))
            } else {
                for line in describe(object) { writeLine(line) }
            }
        }
    }

    /// A room id argument, checked as the server checks it.
    static func roomID(_ text: String) throws -> String {
        do throws(Refusal) {
            return try Validation.roomID(text)
        } catch {
            throw ValidationError("\(text): \(error.message)")
        }
    }

    /// A person's name argument, checked as the server checks it.
    static func person(_ text: String) throws -> String {
        do throws(Refusal) {
            return try Validation.login(text)
        } catch {
            throw ValidationError("\(text): \(error.message)")
        }
    }

    /// `POST /api/rooms/{id}/{action}`, printing "`done` ops (private)".
    static func act(_ action: String, on id: String, api: APIOptions, done: String) async throws {
        try await api.call(.POST, "/api/rooms/\(try roomID(id))/\(action)") { ["\(done) \(room($0["room"] as? [String: Any]))"] }
    }

    /// `action` (invite, remove) done to the person `name` in room `id`; prints "<done> <name> <preposition> <room>".
    static func act(_ action: String, _ name: String, on id: String, api: APIOptions, done: String, _ preposition: String) async throws {
        try await api.call(.POST, "/api/rooms/\(try roomID(id))/\(action)", ["name": try person(name)]) {
            ["\(done) \(name) \(preposition) \(room($0["room"] as? [String: Any]))"]
        }
    }

    /// "ops (private)", from a room object of an answer.
    static func room(_ object: [String: Any]?) -> String {
        let id = object?["id"] as? String ?? "?"
        let visibility = object?["visibility"] as? String ?? "?"
        return "\(id) (\(visibility))"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Your rooms with their unread counts (@ when you were mentioned), then public rooms to join.")
        @OptionGroup var api: APIOptions

        func run() async throws {
            try await self.api.call(.GET, "/api/rooms") { object in
                let mine = (object["rooms"] as? [[String: Any]] ?? []).map { room in
                    let unread = room["unread"] as? Int ?? 0
                    let mark = room["mentioned"] as? Bool == true ? " @" : ""
                    return "\(RoomsCommand.room(room))  \(unread >= RoomRoutes.unreadCap ? "\(RoomRoutes.unreadCap)+" : "\(unread)") unread\(mark)"
                }
                let open = (object["publicRooms"] as? [[String: Any]] ?? []).map { "\(RoomsCommand.room($0))  (join with: warren rooms join \($0["id"] as? String ?? ""))" }
                return mine + open
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a room (public unless --private); you are its first member.")
        @OptionGroup var api: APIOptions
        @Argument(help: "The room's name (its id is the name in lowercase).") var name: String
        @Flag(name: .customLong("private"), help: "Only members' invitations let people in.") var isPrivate = false

        func run() async throws {
            try await self.api.call(.POST, "/api/rooms", ["name": self.name, "visibility": self.isPrivate ? "private" : "public"]) {
                ["made \(RoomsCommand.room($0["room"] as? [String: Any]))"]
            }
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Join a public room.")
        @OptionGroup var api: APIOptions
        @Argument(help: "The room's id.") var id: String

        func run() async throws { try await RoomsCommand.act("join", on: self.id, api: self.api, done: "joined") }
    }

    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Leave a room (not general); your tabs stop getting it at once.")
        @OptionGroup var api: APIOptions
        @Argument(help: "The room's id.") var id: String

        func run() async throws { try await RoomsCommand.act("leave", on: self.id, api: self.api, done: "left") }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add someone with an account to a room you belong to.")
        @OptionGroup var api: APIOptions
        @Argument(help: "The room's id.") var id: String
        @Argument(help: "Who to invite.") var name: String

        func run() async throws { try await RoomsCommand.act("invite", self.name, on: self.id, api: self.api, done: "invited", "to") }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take someone out of a room you made; their tabs stop getting it at once.")
        @OptionGroup var api: APIOptions
        @Argument(help: "The room's id.") var id: String
        @Argument(help: "Who to remove.") var name: String

        func run() async throws { try await RoomsCommand.act("remove", self.name, on: self.id, api: self.api, done: "removed", "from") }
    }

    struct Direct: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dm", abstract: "The direct-message room with someone, made on first use; prints its id for `warren send --room`."
        )
        @OptionGroup var api: APIOptions
        @Argument(help: "Who to write to.") var name: String

        func run() async throws {
            try await self.api.call(.POST, "/api/dm", ["name": try RoomsCommand.person(self.name)]) {
                [($0["room"] as? [String: Any])?["id"] as? String ?? "?"]
            }
        }
    }

    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The members of a room you belong to, one a line.")
        @OptionGroup var api: APIOptions
        @Argument(help: "The room's id.") var id: String

        func run() async throws {
            try await self.api.call(.GET, "/api/rooms/\(try RoomsCommand.roomID(self.id))/members") { $0["members"] as? [String] ?? [] }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search the rooms you belong to (or one with --room), newest first, one event a line."
        )
        @OptionGroup var api: APIOptions
        @Argument(help: "The words to find (every one, in any order).") var text: String
        @Option(help: ArgumentHelp("Only this room (one you belong to).", valueName: "id")) var room: String?
        @Option(help: "The most events printed (1 to \(Limits.historyLimitMax)).") var limit = 20

        func run() async throws {
            // Everything but RFC 3986's unreserved characters percent-encoded (the server reads no + as a space).
            let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
            let words = self.text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
            let path = try self.room.map { "/api/rooms/\(try RoomsCommand.roomID($0))/search" } ?? "/api/search"
            try await self.api.call(.GET, "\(path)?q=\(words)&limit=\(self.limit)") { object in
                (object["events"] as? [[String: Any]] ?? []).map { found in
                    guard let data = try? JSONSerialization.data(withJSONObject: found), let event = try? RoomEvent.decode(Array(data)) else { return "?" }
                    return EventLine.format(event)
                }
            }
        }
    }
}
