import ArgumentParser
import Logging
import ServiceLifecycle
import WarrenCore
import WarrenServices
import WarrenWeb

// FileManager's folder check needs full Foundation on Linux.
import Foundation

/// `warren web`: serves the page, its configuration and a health check.
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Serve the chat page, its configuration (/config.json) and a health check (/healthz).",
        discussion: """
            Serves the files of the web root (index.html at /), tells browsers where the \
            broker's Web-STOMP endpoint is through /config.json, and answers /healthz with 200 \
            while the broker answers an AMQP 0-9-1 greeting and 503, with the reason, when it does not. Browsers then talk \
            to RabbitMQ directly; no chat traffic passes through this server. Accounts: \
            /api/register, /api/login, /api/refresh and /api/logout; posts for people and bots \
            that do not speak STOMP: POST /api/messages with a bearer access token; and the broker's HTTP auth \
            backend at /auth/user, /auth/vhost, /auth/resource and /auth/topic. For operators: \
            /metrics (Prometheus text) and /readyz (200 while the broker link is up and the store answers).

            Environment, then .env (an unset or empty variable takes the default, in brackets):
            \(EnvironmentHelp.lines([
                .init(.httpHost, "address to listen on"),
                .init(.httpPort, "port to listen on, 0 for any free one"),
                .init(.webRoot, "folder of the page"),
                .init(.stompURL, "Web-STOMP URL told to browsers"),
                .init(.stompVhost, "broker virtual host told to browsers"),
                .init(.prefix, "prefix of broker names"),
                .init(.powBits, "proof-of-work difficulty in bits"),
                .init(.amqpURL, "broker that /healthz greets, /api/history and\n/api/search ask through the history service and\n/api/messages posts through"),
                .init(.databaseURL, "accounts store"),
                .init(.authKey, "token signing key, base64 of at least 32 bytes",
                      shownDefault: "unset: kept in \(ConfigurationKey.authKeyFile.rawValue)"),
                .init(.authKeyFile, "where a generated key is kept"),
                .init(.history, "none: /api/history and /api/search answer 503"),
                .init(.registerPerAddress, "registrations a minute from one address"),
                .init(.registerPerMinute, "registrations a minute from everyone"),
                .init(.hashThreads, "threads hashing passwords: auto, 1-64, off"),
                .init(.hashQueue, "hashes waiting before more are refused"),
                .init(.httpConnectionsPerAddress, "open HTTP connections per address, 0: any"),
                .init(.grpcHost, "address the gRPC chat listens on"),
                .init(.grpcPort, "gRPC warren.v1.Chat port, or off"),
                .init(.logLevel, "default of --log-level"),
                .init(.logFormat, "text, or json: one JSON object a line"),
                .init(.mgmtURL, "broker's management API for /api/ops and the\nqueue metrics; off: none"),
                .init(.admins, "logins that may open /ops (comma-separated)"),
            ]))

            Stops gracefully on SIGTERM or SIGINT (Ctrl-C): it finishes the requests in flight.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("Address to listen on; overrides WARREN_HTTP_HOST.", valueName: "address"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on; overrides WARREN_HTTP_PORT.", valueName: "port"))
    var port: Int?

    @Option(help: ArgumentHelp("Folder of the page to serve; overrides WARREN_WEB_ROOT.", valueName: "folder"))
    var webRoot: String?

    func validate() throws {
        if let port, !(0...65535).contains(port) {
            throw ValidationError("--port \(port): expected a port number from 0 to 65535")
        }
        if let host, host.isEmpty {
            throw ValidationError("--host: expected an address, such as 127.0.0.1 or 0.0.0.0")
        }
    }

    func run() async throws {
        let settings = try self.options.bootstrap()
        let logger = Logger(label: "warren.web")

        var configuration = WebConfiguration(settings)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let webRoot { configuration.webRoot = webRoot }

        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configuration.webRoot, isDirectory: &isFolder), isFolder.boolValue else {
            throw CommandFailure(
                "web root \"\(configuration.webRoot)\" is not a folder: run from the repository root, or set WARREN_WEB_ROOT or --web-root"
            )
        }
        let index = (configuration.webRoot as NSString).appendingPathComponent("index.html")
        if !FileManager.default.fileExists(atPath: index) {
            logger.warning("The web root has no index.html: / will answer 404", metadata: ["webRoot": "\(configuration.webRoot)"])
        }

        let broker = try ServiceWiring.webBroker(settings, logger: logger)
        let (accounts, store) = try await AccountsWiring.open(settings, logger: logger)
        OpsWiring.watchStore(store)
        let rooms = RoomRoutes.Dependencies(accounts: accounts, store: store, routing: broker.rooms, history: broker.history, posts: broker.posts)
        let (ops, polling) = try OpsWiring.opsWatcher(settings, logger: logger)
        let app = buildApplication(
            configuration: configuration, accounts: accounts, history: broker.history, posts: broker.posts, rooms: rooms, ops: ops,
            logger: logger
        )
        // The connection first: the group stops services in reverse order (the gRPC server
        // ends its subscriptions before the broker link goes).
        let grpc = broker.chatServer(settings, accounts: accounts, store: store, logger: logger)
        let services: [any Service] = [broker.service] + (grpc.map { [$0] } ?? []) + polling + [app]
        do {
            try await runServices(services, logger: logger)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        logger.notice("Warren web stopped")
    }
}

/// A failure worth one line to the user, without the usage text a `ValidationError` prints.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
