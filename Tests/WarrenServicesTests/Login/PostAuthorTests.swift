import Testing
import WarrenCore
import WarrenServices

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
