import Hummingbird
import Logging
import NIOCore
import WarrenAuth
import WarrenCore

/// Builds the `web` role's application: the router below, served on the configured host and port.
///
/// The executable runs the result in a `ServiceGroup` (Hummingbird's `Application` is a
/// swift-service-lifecycle `Service`); tests drive the same value in-process with `app.test(.router)`.
/// - Parameters:
///   - configuration: where to listen, what to serve, what to tell browsers.
///   - brokerReachable: the check behind `/healthz`; by default an AMQP greeting with the broker
///     (see ``amqpGreetingCheck(to:timeout:logger:)``). Its answers are cached for a second.
///   - accounts: accounts and tokens; when given, the router answers `/api/*` and the broker's `/auth/*`.
///   - history: what answers `/api/history` and `/api/search` (see ``HistoryRoutes``); nil: 503.
///   - posts: what sends `POST /api/messages` to the broker (see ``MessageRoutes``); nil: 503.
///   - ops: what reads the management API for `GET /api/ops` (``OpsPageRoutes``); nil: 503.
///   - logger: the application's logger; each request logs through it.
/// - Returns: an application ready to `run()` or to join a `ServiceGroup`.
public func buildApplication(
    configuration: WebConfiguration,
    brokerReachable: (@Sendable () async -> BrokerHealth)? = nil,
    accounts: AccountService? = nil,
    history: (any HistoryAnswering)? = nil,
    posts: (any PostPublishing)? = nil,
    rooms: RoomRoutes.Dependencies? = nil,
    ops: OpsWatcher? = nil,
    logger: Logger = Logger(label: "warren.web")
) -> some ApplicationProtocol {
    let check = brokerReachable ?? amqpGreetingCheck(toAny: configuration.brokers, logger: logger)
    let router = buildRouter(
        configuration: configuration,
        health: CachedHealthCheck(maximumAge: .seconds(1), check: check),
        accounts: accounts,
        history: history,
        posts: posts,
        rooms: rooms,
        ops: ops,
        logger: logger
    )
    let connections = configuration.connectionsPerAddress > 0 ? ConnectionsPerAddress(limit: configuration.connectionsPerAddress) : nil
    return Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: limitHandlers(connections: connections, logger: logger))),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "warren"
        ),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            logger.notice(
                "Warren web is serving \(browserURL(host: configuration.host, port: port))",
                metadata: ["webRoot": "\(configuration.webRoot)", "stompURL": "\(configuration.stompURL)"]
            )
        },
        logger: logger
    )
}

/// The handlers of each new connection that enforce the HTTP limits: connections per address
/// (when `connections` is given), then the body size (``maximumRequestBody``).
func limitHandlers(connections: ConnectionsPerAddress?, logger: Logger) -> [any RemovableChannelHandler] {
    let body = BodySizeLimitHandler(maximum: maximumRequestBody, logger: logger)
    guard let connections else { return [body] }
    return [ConnectionLimitHandler(connections: connections, logger: logger), body]
}

/// The largest request body the server reads: that of the route that takes the largest,
/// `POST /api/messages`. Every other route refuses a body over its own, smaller limit.
let maximumRequestBody = MessageRoutes.maximumBody

/// The URL to open for a server listening on `host`: a wildcard address becomes `localhost`.
func browserURL(host: String, port: Int) -> String {
    let name: String
    switch host {
    case "0.0.0.0", "::", "[::]": name = "localhost"
    case let address where address.contains(":") && !address.hasPrefix("["): name = "[\(address)]"
    default: name = host
    }
    return "http://\(name):\(port)/"
}

/// Builds the router: `/config.json`, `/healthz`, and the files of the web root for everything else.
/// - Parameters:
///   - configuration: what to serve and what to tell browsers.
///   - health: the (cached) broker check behind `/healthz`.
///   - accounts: accounts and tokens behind `/api/*` and `/auth/*`; nil leaves them out.
///   - history: what answers `/api/history` and `/api/search`; nil: they answer 503.
///   - posts: what sends `POST /api/messages` (with `accounts` only); nil: it answers 503.
///   - rooms: what the rooms API (`/api/rooms…`, `/api/dm`) uses; nil leaves it out.
///   - ops: what `GET /api/ops` reads (with `accounts` only); nil: it answers 503 to admins.
///   - logger: the logger of file serving.
/// - Returns: a router whose middleware adds security headers and an access log to every response.
public func buildRouter<C: Clock>(
    configuration: WebConfiguration,
    health: CachedHealthCheck<C>,
    accounts: AccountService? = nil,
    history: (any HistoryAnswering)? = nil,
    posts: (any PostPublishing)? = nil,
    rooms: RoomRoutes.Dependencies? = nil,
    ops: OpsWatcher? = nil,
    logger: Logger = Logger(label: "warren.web")
) -> Router<WarrenRequestContext> {
    let router = Router(context: WarrenRequestContext.self)
    // Outermost first: the security headers and the access log also cover errors and files.
    router.addMiddleware {
        SecurityHeadersMiddleware(stompOrigin: configuration.stompOrigin)
        MetricsMiddleware()
        AccessLogMiddleware()
        FileMiddleware(
            configuration.webRoot,
            cacheControl: staticCacheControl,
            searchForIndexHtml: true,
            logger: logger
        )
        .withAdditionalMediaTypes(forFileExtensions: utf8TextTypes)
    }

    let browserConfiguration = BrowserConfiguration(configuration)
    router.get("config.json") { _, _ in
        EditedResponse(headers: [.cacheControl: "no-store"], response: browserConfiguration)
    }

    router.get("healthz") { _, _ in
        let broker = await health.health()
        return EditedResponse(
            status: broker.reachable ? .ok : .serviceUnavailable,
            headers: [.cacheControl: "no-store"],
            response: HealthReport(broker)
        )
    }
    if let accounts {
        addAccountRoutes(to: router, accounts: accounts, policy: configuration.brokerPolicy)
        MessageRoutes.add(to: router, accounts: accounts, posts: posts)
        OpsPageRoutes.add(to: router, accounts: accounts, admins: configuration.admins, watcher: ops)
    }
    if let rooms { RoomRoutes.add(to: router, rooms) }
    HistoryRoutes.add(to: router, history: history, accounts: accounts, roomsOf: rooms.map(RoomRoutes.roomsOf))
    OpsRoutes.add(to: router)
    return router
}

/// How long browsers may keep each kind of file.
///
/// The page has no build step, so file names carry no content hash: a max-age on scripts could
/// mix an old module with a new page after a deploy. Text is revalidated on every use instead,
/// which the ETag makes a cheap `304`; images change rarely and may be kept for an hour.
private let staticCacheControl = CacheControl([
    (.textHtml, [.noCache]),
    (.textJavascript, [.noCache]),
    (.textCss, [.noCache]),
    (.applicationJson, [.noCache]),
    (MediaType(type: .image), [.maxAge(3600)]),
])

/// Text types sent with their character set, so no browser has to guess it.
private let utf8TextTypes: [String: MediaType] = [
    "html": MediaType(type: .text, subType: "html", parameter: ("charset", "utf-8")),
    "js": MediaType(type: .text, subType: "javascript", parameter: ("charset", "utf-8")),
    "mjs": MediaType(type: .text, subType: "javascript", parameter: ("charset", "utf-8")),
    "css": MediaType(type: .text, subType: "css", parameter: ("charset", "utf-8")),
]
