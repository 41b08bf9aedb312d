import Logging
import WarrenCore

/// What each role notes about a post as it passes: a metric, and a log line carrying the post's
/// event id (`id`) and the client id it came with (`clientId`), so `grep <id>` over every role's
/// log (or a collector's query on `id`, with `WARREN_LOG_FORMAT=json`) tells its whole way:
/// admitted by the login service, taken by the reverser, stored by the history role.
///
/// The lines are at debug level (one per post per role); the metrics are always recorded.
public enum PostTrail {
    /// The login service admitted a post as `event` (again: one that arrived twice).
    public static func admitted(_ event: RoomEvent, route: String, logger: Logger) {
        PostMetrics.admitted(route)
        logger.debug("post admitted", metadata: self.metadata(event, ["route": "\(route)"]))
    }

    /// The login service refused a post (told its tab, or dead-lettered it).
    public static func refused(_ code: Refusal.Code, clientId: String?, logger: Logger) {
        self.refused(code.rawValue, clientId: clientId, logger: logger)
    }

    /// The login service refused a post for a reason named by a code of ``PostMetrics``.
    public static func refused(_ code: String, clientId: String?, logger: Logger) {
        PostMetrics.refused(code)
        logger.debug("post refused", metadata: ["code": "\(code)", "clientId": "\(clientId ?? "")"])
    }

    /// A bot (the reverser) took an admitted post.
    public static func received(_ event: RoomEvent, logger: Logger) {
        logger.debug("post received", metadata: self.metadata(event, [:]))
    }

    /// The history role committed `events`: one line each.
    public static func stored(_ events: [RoomEvent], logger: Logger) {
        guard logger.logLevel <= .debug else { return }
        for event in events {
            logger.debug("event stored", metadata: self.metadata(event, [:]))
        }
    }

    /// `id`, `clientId` (when the event has one) and `kind`, with `extra`.
    public static func metadata(_ event: RoomEvent, _ extra: Logger.Metadata) -> Logger.Metadata {
        var metadata = extra
        metadata["id"] = "\(event.id)"
        metadata["kind"] = "\(event.kind.rawValue)"
        if let clientId = event.clientId { metadata["clientId"] = "\(clientId)" }
        return metadata
    }
}
