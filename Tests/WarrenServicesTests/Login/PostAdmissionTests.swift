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
