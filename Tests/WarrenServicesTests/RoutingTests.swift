import Foundation
import ProofOfWork
import Testing
import WarrenCore
import WarrenServices

@Suite struct PostAdmissionTests {
    let topology = try! Topology(prefix: "t1")
    let session = String(repeating: "a", count: 24)

    @Test func validPostNamesTheSendersQueue() {
        let post = InboxPost(text: " hello !pow ", clientId: "c1", login: "alice", session: session)
        guard case .accepted(let accepted, let queue) = PostAdmission.admit(post, topology: topology) else {
            Issue.record("refused")
            return
        }
        #expect(accepted.route == .pow)
        #expect(accepted.text == "hello")
        #expect(queue == "t1.user.alice.\(session)")
    }

    @Test func tooLongPostIsRefusedToTheSendersQueue() {
        let post = InboxPost(text: String(repeating: "x", count: Limits.textMaxCharacters + 1), clientId: "c1", login: "alice", session: session)
        guard case .refused(let refusal, let queue) = PostAdmission.admit(post, topology: topology) else {
            Issue.record("accepted")
            return
        }
        #expect(refusal.code == .textTooLong)
        #expect(queue == "t1.user.alice.\(session)")
    }

    @Test func badSessionLeavesNobodyToTell() {
        let post = InboxPost(text: "hi", clientId: "c1", login: "alice", session: "short")
        guard case .refused(_, let queue) = PostAdmission.admit(post, topology: topology) else {
            Issue.record("accepted")
            return
        }
        #expect(queue == nil)
    }
}

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

@Suite struct CronTickFilterTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func postsEachTickOnceAndSkipsOlderAndStaleOnes() {
        var filter = CronRole.TickFilter(staleness: 5)
        #expect(filter.shouldPost(t0, now: t0))
        filter.lastPosted = t0
        #expect(!filter.shouldPost(t0, now: t0))  // the other copy's tick for the same time
        #expect(!filter.shouldPost(t0.addingTimeInterval(-1), now: t0))
        #expect(filter.shouldPost(t0.addingTimeInterval(1), now: t0.addingTimeInterval(1)))
        #expect(!filter.shouldPost(t0.addingTimeInterval(2), now: t0.addingTimeInterval(10)))  // stale
    }

    @Test func scaledClockRunsFaster() async throws {
        let clock = ScaledCronClock(origin: t0, speed: 50)
        try await Task.sleep(for: .milliseconds(20))
        // 20 ms of real time (or more, on a busy machine) are at least a second on this clock.
        #expect(clock.now() >= t0.addingTimeInterval(1))
        try await clock.sleep(until: t0.addingTimeInterval(2))
        #expect(clock.now() >= t0.addingTimeInterval(2))
    }
}

@Suite struct ProofConversionTests {
    @Test func solverProofBecomesAVerifiableWireProof() async throws {
        let proof = try await ProofSolver(workers: 1).solve(id: "i", author: "a", text: "t", bits: 8)
        let wire = WarrenCore.Proof(proof, via: .rpc)
        #expect(wire.nonce == String(proof.nonce))
        #expect(wire.via == .rpc)
        #expect(wire.hashMeetsDifficulty)
        #expect(wire.challenge == ProofChallenge.make(id: "i", author: "a", text: "t"))
    }
}

@Suite struct TopologyDeclarerTests {
    @Test func workQueuesDeadLetterToTheDeadQueue() throws {
        let declarer = TopologyDeclarer(topology: try Topology(prefix: "x"), userQueueTTLMs: 1000, userQueueMaxLength: 5)
        #expect(declarer.workQueueArguments["x-dead-letter-routing-key"]?.stringValue == "x.dead")
        #expect(declarer.workQueueArguments["x-dead-letter-exchange"]?.stringValue == "")
        #expect(declarer.workQueues.count == 5)
        #expect(declarer.userQueueArguments["x-expires"] == .int64(1000))
        #expect(declarer.userQueueArguments["x-max-length"] == .int64(5))
    }
}

@Suite("Post author check")
struct PostAuthorTests {
    @Test func withBrokerAuthOffEveryRequestProceeds() {
        #expect(PostAuthor.refusal(userID: nil, login: "alice", required: false) == nil)
        #expect(PostAuthor.refusal(userID: "bob", login: "alice", required: false) == nil)
    }

    @Test func withBrokerAuthOnTheUserIDMustBeTheLogin() {
        #expect(PostAuthor.refusal(userID: "alice", login: "alice", required: true) == nil)
        #expect(PostAuthor.refusal(userID: nil, login: "alice", required: true)?.contains("no broker-validated user id") == true)
        #expect(PostAuthor.refusal(userID: "bob", login: "alice", required: true)?.contains("bob") == true)
        #expect(PostAuthor.refusal(userID: "Alice", login: "alice", required: true) != nil, "exact, as the broker's names are")
        #expect(PostAuthor.refusal(userID: "", login: "alice", required: true) != nil)
    }

    @Test func onlyTheServiceAccountMayPostOnSomeonesBehalf() {
        #expect(PostAuthor.onBehalfRefusal(userID: "warren", serviceUser: "warren", onBehalfOf: "alice", login: "alice") == nil)
        #expect(PostAuthor.onBehalfRefusal(userID: nil, serviceUser: "warren", onBehalfOf: "alice", login: "alice") != nil, "no user id")
        #expect(PostAuthor.onBehalfRefusal(userID: "browser", serviceUser: "warren", onBehalfOf: "alice", login: "alice") != nil)
        #expect(PostAuthor.onBehalfRefusal(userID: "alice", serviceUser: "warren", onBehalfOf: "alice", login: "alice") != nil, "not even as oneself")
        #expect(PostAuthor.onBehalfRefusal(userID: "Warren", serviceUser: "warren", onBehalfOf: "alice", login: "alice") != nil)
        #expect(PostAuthor.onBehalfRefusal(userID: "", serviceUser: "", onBehalfOf: "alice", login: "alice") != nil, "no service account known")
        #expect(
            PostAuthor.onBehalfRefusal(userID: "warren", serviceUser: "warren", onBehalfOf: "alice", login: "bob")?.contains("bob") == true,
            "the header and the post must name the same person"
        )
    }

    @Test func theServiceAccountIsTheUserOfTheAMQPURL() throws {
        let configuration = try WarrenConfiguration.load(environment: ["WARREN_AMQP_URL": "amqp://svc%2Dname:pw@127.0.0.1:5672/warren"], envFile: nil)
        #expect(configuration.serviceUser == "svc-name")
    }
}
