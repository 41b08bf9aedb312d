import ProofOfWork
import WarrenCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ReverserRole {
    /// What the reverser does with one post; pure, so it is tested without a broker.
    public enum Action: Equatable, Sendable {
        /// Publish this reply to the room.
        case reply(RoomEvent)
        /// Publish this job to the job queue.
        case job(PowJob)
        /// Call a worker with this job over the broker, then publish the proven post.
        case call(PowJob)
        /// Call a worker with this job over gRPC, then publish the proven post.
        case grpcCall(PowJob)
    }

    /// Decides what to do with a post that arrived with `routingKey`; nil for an unknown key.
    public static func action(for post: RoomEvent, routingKey: String, bits: Int, replyID: String, at: Date) -> Action? {
        guard let route = PostRoute(routingKey: routingKey) else { return nil }
        switch route {
        case .plain:
            return .reply(
                RoomEvent(id: replyID, kind: .reply, from: Self.botName, text: reversed(post.text), at: at, inReplyTo: post.id, room: post.room)
            )
        case .pow, .rpc, .grpc:
            let via: ProofVia = route.proofVia ?? .queue
            let challenge = ProofChallenge.make(id: post.id, author: post.from, text: post.text)
            let job = PowJob(event: post, via: via, bits: bits, challenge: challenge)
            switch route {
            case .pow: return .job(job)
            case .rpc: return .call(job)
            default: return .grpcCall(job)
            }
        }
    }
}
