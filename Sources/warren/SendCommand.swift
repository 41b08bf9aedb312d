import AMQPClient
import AMQPProtocol
import ArgumentParser
import NIOCore
import WarrenCore

import Foundation

/// `warren send`: logs in like a browser tab, posts once and prints what the room answers.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Log in like a browser, post TEXT, and print the room's answer.",
        discussion: """
            Sends a login request to <prefix>.login (reply to a private queue), consumes the \
            tab queue the login service names, posts TEXT to <prefix>.inbox (to general, or to \
            the room --room names, which the login must belong to) and prints every event that \
            arrives, one a line (#room before events outside general), until the answer to the \
            post: the reverser's reply \
            to a plain post, the proven post for "!pow" or "!rpc", or an error. Then logs out \
            (which deletes the tab queue). Needs the login service (and the reverser and a PoW \
            worker for answers) running, e.g. `warren up`.

            With broker auth on (WARREN_BROKER_AUTH, the default), the login service admits only \
            requests the broker vouches for: give --token-file, a file holding an access token of \
            the login (the accessToken of POST /api/login, or - to read it from standard input), \
            and this command connects to the broker as that person, at WARREN_AMQP_URL's host, \
            with user_id set on every request. Without it, it connects as the URL's account, \
            which only a login service with WARREN_BROKER_AUTH=off admits.

            With several broker nodes in WARREN_AMQP_URL (a comma list), it connects to any \
            that answers; a node lost during the exchange ends it with an error.

            Environment (also read from .env): WARREN_AMQP_URL, WARREN_PREFIX.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("The login to post as.", valueName: "name"))
    var login: String

    @Argument(help: "What to post; end it with !pow or !rpc to have it proven first.")
    var text: String

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 30

    @Option(help: ArgumentHelp("A file holding an access token of the login (- for standard input): connect as that person.", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The room to post to, by id (general when left out); you must belong to it.", valueName: "id"))
    var room: String?

    func validate() throws {
        _ = try self.roomID()
    }

    /// The checked id of --room (in lowercase), nil for general.
    func roomID() throws -> String? {
        guard let room else { return nil }
        do throws(Refusal) {
            return try Validation.roomID(room)
        } catch {
            throw ValidationError("--room \(room): \(error.message)")
        }
    }

    func run() async throws {
        let configuration = try self.options.bootstrap()
        let topology = configuration.topology
        var amqp = try ServiceWiring.amqp(configuration, name: "send")
        // Signed in as the person, the broker checks the user_id of each request against them.
        let userID: String? = try self.readToken().map { token in
            amqp.user = self.login
            amqp.password = token
            return self.login
        }
        // Any node of WARREN_AMQP_URL that answers (the one connector every client uses).
        let connection = try await AMQPConnector(configuration: amqp).connectOnce()
        let channel = try await connection.openChannel()
        try await channel.confirmSelect()
        let replies = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
        let replyConsumer = try await channel.consume(queue: replies, noAck: true)
        let session = Self.randomSession()
        let loginRequest = LoginRequest(action: .login, login: self.login, session: session, resume: false)
        var properties = BasicProperties(contentType: "application/json", correlationID: "login-1", replyTo: replies, userID: userID)
        try await channel.publish(body: ByteBuffer(bytes: loginRequest.encode()), exchange: topology.entry, routingKey: topology.login, properties: properties)
        let reply = try await withDeadline(.seconds(10), "the login reply (is the login service running?)") {
            for try await delivery in replyConsumer {
                return try LoginReply.decode(delivery.body.readableBytesView)
            }
            throw CommandFailure("the reply queue closed")
        }
        guard reply.ok, let queue = reply.queue else {
            let hint = reply.code == Refusal.Code.loginNotVouched.rawValue && userID == nil ? " (sign in: --token-file)" : ""
            throw CommandFailure("login refused: \(reply.error ?? "no reason given")\(hint)")
        }
        writeLine("logged in as \(self.login); tab queue \(queue)")

        let events = try await channel.consume(queue: queue, noAck: true)
        let clientId = UUID().uuidString.lowercased()
        let post = InboxPost(text: self.text, clientId: clientId, login: self.login, session: session, room: try self.roomID())
        properties = BasicProperties(contentType: "application/json", deliveryMode: BasicProperties.persistentDeliveryMode, userID: userID)
        try await channel.publish(body: ByteBuffer(bytes: post.encode()), exchange: topology.entry, routingKey: topology.inbox, properties: properties)

        let expectsProof = PostRoute.classify(self.text.trimmingCharacters(in: .whitespacesAndNewlines)).route != .plain
        let outcome: Result<Void, any Error>
        do {
            try await withDeadline(.seconds(self.timeout), "the answer to the post") {
                var postID: String?
                for try await delivery in events {
                    guard let message = try? TabMessage.decode(delivery.body.readableBytesView) else { continue }
                    for event in message.events { writeLine(EventLine.format(event)) }
                    guard case .event(let event) = message else { continue }
                    if event.clientId == clientId, event.kind == .message { postID = event.id }
                    if event.kind == .error, event.inReplyTo == clientId { throw CommandFailure("the post was refused: \(event.text)") }
                    if expectsProof, event.kind == .proof, event.clientId == clientId { return }
                    if !expectsProof, event.kind == .reply, let postID, event.inReplyTo == postID { return }
                }
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let logout = LoginRequest(action: .logout, login: self.login, session: session)
        // Confirmed, so the login service gets it; its reply finds our queue gone, which is fine.
        properties = BasicProperties(contentType: "application/json", deliveryMode: BasicProperties.persistentDeliveryMode, userID: userID)
        try? await channel.publish(body: ByteBuffer(bytes: logout.encode()), exchange: topology.entry, routingKey: topology.login, properties: properties)
        try? await connection.close()
        try outcome.get()
    }

    /// The access token from --token-file, trimmed; nil without the option.
    func readToken() throws -> String? {
        try self.tokenFile.map(TokenFile.read)
    }

    /// A session id like a tab's: 32 characters of base64url, 192 bits.
    static func randomSession() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int(generator.next() % 64)] })
    }
}
