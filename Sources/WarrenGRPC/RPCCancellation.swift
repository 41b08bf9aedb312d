import GRPCCore

/// Runs `work` in a task of its own that ends when the RPC does: gRPC's cancellation of the call
/// (its deadline passed, the caller went away, the server shuts down) cancels it, as does the
/// cancellation of the calling task. A handler's own task is not cancelled by gRPC.
public func cancellingWithRPC<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
    let task = Task { try await work() }
    return try await withTaskCancellationHandler {
        try await withRPCCancellationHandler {
            try await task.value
        } onCancelRPC: {
            task.cancel()
        }
    } onCancel: {
        task.cancel()
    }
}
