import AMQPClient
import WarrenOps

/// Runs `call`, a request over the broker and the wait for its reply, and records how long it
/// took and how it ended in `warren_rpc_duration_seconds` (an `AMQPError` timeout is `timeout`).
func timedRPC<T>(_ method: String, _ call: () async throws -> T) async throws -> T {
    let start = ContinuousClock.now
    do {
        let value = try await call()
        RPCMetrics.observed(method, .ok, since: start)
        return value
    } catch let error as AMQPError where error.code == .timeout {
        RPCMetrics.observed(method, .timeout, since: start)
        throw error
    } catch {
        RPCMetrics.observed(method, .error, since: start)
        throw error
    }
}
