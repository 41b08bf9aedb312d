import Hummingbird
import Logging

/// Logs one line per request once it is answered: method, path, status and duration.
///
/// Hummingbird's own `LogRequestsMiddleware` logs on arrival, before the status is known; an
/// access log is more useful with the outcome in it.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let level: Logger.Level

    /// Creates the middleware.
    /// - Parameter level: the level of the per-request line; an unexpected error is logged at `error`.
    public init(level: Logger.Level = .info) {
        self.level = level
    }

    /// Runs the rest of the chain and logs its outcome.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            self.log(request, status: response.status, since: start, logger: context.logger)
            return response
        } catch let error as any HTTPResponseError {
            self.log(request, status: error.status, since: start, logger: context.logger)
            throw error
        } catch {
            self.log(request, status: .internalServerError, since: start, logger: context.logger, error: error)
            throw error
        }
    }

    private func log(_ request: Request, status: HTTPResponse.Status, since start: ContinuousClock.Instant, logger: Logger, error: (any Error)? = nil) {
        let elapsed = start.duration(to: .now)
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "status": .stringConvertible(status.code),
            "ms": .stringConvertible((milliseconds * 10).rounded() / 10),
        ]
        if let error {
            metadata["error"] = .string("\(error)")
        }
        // A 503 from /healthz is an answer, not a fault: only errors nobody turned into a response
        // are raised to `error`, so a probe every few seconds does not flood the log.
        let level: Logger.Level = error == nil ? self.level : .error
        logger.log(level: level, "\(request.method.rawValue) \(request.uri.path) \(status.code)", metadata: metadata)
    }
}
