import GRPCCore
import WarrenOps

/// Times every call a ``GRPCServerService`` serves, from its arrival to its end (a server
/// stream's end included), into `warren_grpc_duration_seconds` by method and status code.
/// The router answers unknown methods before interceptors run, so the method label only takes
/// the services' own names.
struct GRPCTiming: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let start = ContinuousClock.now
        let method = context.descriptor.fullyQualifiedMethod
        var response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            RPCMetrics.servedGRPC(method, code: Self.code(of: error), since: start)
            throw error
        }
        switch response.accepted {
        case .success(var contents):
            let producer = contents.producer
            contents.producer = { writer in
                do {
                    let trailers = try await producer(writer)
                    RPCMetrics.servedGRPC(method, code: "ok", since: start)
                    return trailers
                } catch {
                    RPCMetrics.servedGRPC(method, code: Self.code(of: error), since: start)
                    throw error
                }
            }
            response.accepted = .success(contents)
        case .failure(let error):
            RPCMetrics.servedGRPC(method, code: Self.code(of: error), since: start)
        }
        return response
    }

    /// A status code's name (`invalidArgument`, ...): one of gRPC's 17; anything else thrown
    /// is `unknown`, as the client sees it.
    static func code(of error: any Error) -> String {
        guard let error = error as? RPCError else { return "unknown" }
        return "\(error.code)"
    }
}
