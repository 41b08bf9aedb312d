import ArgumentParser
import GRPCCore
import GRPCNIOTransportHTTP2
import WarrenCore
import WarrenGRPC

import Foundation

/// `warren grpc`: the chat through the web role's gRPC `warren.v1.Chat` (docs/grpc.md), a small
/// client for scripts.
struct GRPCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc",
        abstract: "Post, read history, or follow the chat through the web role's gRPC API.",
        discussion: """
            Calls warren.v1.Chat as the person whose access token --token-file holds (the \
            accessToken of POST /api/login; - reads it from standard input), at --target \
            (127.0.0.1:WARREN_GRPC_PORT by default). Events print one a line, as `warren tail` \
            prints them. A failed call prints its gRPC status and message and ends with status 1.
            """,
        subcommands: [Post.self, History.self, Tail.self]
    )

    /// What every grpc subcommand takes.
    struct CallOptionsGroup: ParsableArguments {
        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("A file holding the person's access token (- for standard input).", valueName: "file"))
        var tokenFile: String

        @Option(help: ArgumentHelp("The web role's gRPC address (default: 127.0.0.1:WARREN_GRPC_PORT).", valueName: "host:port"))
        var target: String?

        @Option(help: ArgumentHelp("The room (default: general).", valueName: "id"))
        var room: String = ""

        @Option(help: ArgumentHelp("Seconds a call may take (not for tail).", valueName: "seconds"))
        var timeout: Double = 10

        /// Runs `body` with a client of the chat and the token's metadata; a failed call is one line.
        func withChat(_ body: @Sendable (Warren_V1_Chat.Client<HTTP2ClientTransport.Posix>, Metadata, GRPCCore.CallOptions) async throws -> Void)
            async throws
        {
            let configuration = try self.options.bootstrap()
            let text = self.target ?? "127.0.0.1:\(Self.port(configuration))"
            guard let target = HostPort(Substring(text)) else { throw ValidationError("--target \(text): expected host:port") }
            let metadata: Metadata = ["authorization": "Bearer \(try TokenFile.read(self.tokenFile))"]
            var call = GRPCCore.CallOptions.defaults
            call.timeout = .milliseconds(Int64(max(0.001, self.timeout) * 1000))
            let options = call
            do {
                try await GRPCClients.with(targets: [target]) { clients in
                    try await body(Warren_V1_Chat.Client(wrapping: clients.clients[0]), metadata, options)
                }
            } catch let error as RPCError {
                throw CommandFailure("\(error.code): \(error.message)")
            }
        }

        static func port(_ configuration: WarrenConfiguration) -> Int {
            if case .port(let port) = configuration.grpc.chatPort { return port }
            return 50051
        }
    }

    struct Post: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Post a text; prints the event id it was admitted under.")
        @OptionGroup var call: CallOptionsGroup
        @Argument(help: "The text (ending in !pow, !rpc or !grpc asks for a proof).") var text: String

        func run() async throws {
            let (text, room) = (self.text, self.call.room)
            try await self.call.withChat { chat, metadata, options in
                let answer = try await chat.post(.with { $0.text = text; $0.room = room }, metadata: metadata, options: options)
                writeLine(answer.queued ? "queued \(answer.clientID)" : answer.id)
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the room's latest events (or those before --before), or search it (--search).")
        @OptionGroup var call: CallOptionsGroup
        @Option(help: "Events at most (default 50).") var limit: UInt32 = 0
        @Option(help: ArgumentHelp("The events just before this id.", valueName: "id")) var before: String = ""
        @Option(help: ArgumentHelp("Words to find instead (newest first).", valueName: "words")) var search: String?

        func run() async throws {
            let (room, limit, before, search) = (self.call.room, self.limit, self.before, self.search)
            try await self.call.withChat { chat, metadata, options in
                let events: Warren_V1_Events
                if let search {
                    events = try await chat.search(.with { $0.room = room; $0.query = search; $0.limit = limit }, metadata: metadata, options: options)
                } else {
                    events = try await chat.history(.with { $0.room = room; $0.before = before; $0.limit = limit }, metadata: metadata, options: options)
                }
                for event in events.events { writeLine(GRPCCommand.line(event)) }
            }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the person's live events until Ctrl-C; --session resumes a subscription without missing anything."
        )
        @OptionGroup var call: CallOptionsGroup
        @Option(help: ArgumentHelp("The subscription's id (22-64 of A-Z a-z 0-9 _ -); default: a new one, printed first.", valueName: "id"))
        var session: String?

        func run() async throws {
            let session = self.session ?? Self.newSession()
            if self.session == nil { writeLine("# session \(session)") }
            let room = self.call.room
            try await self.call.withChat { chat, metadata, _ in
                try await chat.subscribe(.with { $0.session = session; $0.room = room }, metadata: metadata) { response in
                    for try await event in response.messages { writeLine(GRPCCommand.line(event)) }
                }
            }
        }

        static func newSession() -> String {
            let bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
            return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
    }

    /// One event a line, as ``EventLine`` prints a room event.
    static func line(_ event: Warren_V1_Event) -> String {
        let room = event.room.isEmpty || event.room == ChatRoom.general ? "" : "#\(event.room) "
        var line = "\(event.at) \(room)\(event.kind) \(event.from): \(event.text.replacingOccurrences(of: "\n", with: "⏎"))"
        if !event.inReplyTo.isEmpty { line += " (re \(event.inReplyTo))" }
        if event.hasProof {
            line += " [proof \(event.proof.via) \(event.proof.bits) bits, nonce \(event.proof.nonce), \(event.proof.elapsedMs) ms]"
        }
        if !event.code.isEmpty { line += " [\(event.code)]" }
        return line
    }
}
