import Foundation
import ProofOfWork
import Testing
import WarrenCore
import WarrenServices

@Suite struct ReverserActionTests {
    let post = RoomEvent(id: "01J0000000000000000000000A", kind: .message, from: "alice", text: "héllo 👋🏽", at: Date(timeIntervalSince1970: 1_700_000_000), clientId: "c1")

    @Test func plainPostGetsTheReversedReply() {
        let action = ReverserRole.action(for: post, routingKey: "post.plain", bits: 12, replyID: "r1", at: post.at)
        guard case .reply(let reply)? = action else {
            Issue.record("no reply: \(String(describing: action))")
            return
        }
        #expect(reply.kind == .reply)
        #expect(reply.from == "reverser")
        #expect(reply.text == "👋🏽 olléh")
        #expect(reply.inReplyTo == post.id)
    }

    @Test func powAndRpcPostsBecomeJobsWithThePostsChallenge() {
        for (key, via) in [("post.pow", ProofVia.queue), ("post.rpc", .rpc)] {
            let action = ReverserRole.action(for: post, routingKey: key, bits: 12, replyID: "r1", at: post.at)
            let job: PowJob
            switch action {
            case .job(let j)? where via == .queue: job = j
            case .call(let j)? where via == .rpc: job = j
            default:
                Issue.record("\(key): \(String(describing: action))")
                continue
            }
            #expect(job.via == via)
            #expect(job.bits == 12)
            #expect(job.id == post.id)
            #expect(job.clientId == "c1")
            #expect(job.challenge == ProofChallenge.make(id: post.id, author: "alice", text: post.text))
        }
    }

    @Test func unknownRoutingKeyHasNoAction() {
        #expect(ReverserRole.action(for: post, routingKey: "post.other", bits: 12, replyID: "r1", at: post.at) == nil)
    }
}
