import Foundation
import Testing
import WarrenCore

@testable import WarrenServices

struct AdmittedPostsTests {
    func accepted(_ text: String, clientId: String = "c1", login: String = "alice") throws -> AcceptedPost {
        try AcceptedPost(InboxPost(text: text, clientId: clientId, login: login, session: "s1234567890abcdefghijklmn"))
    }

    @Test func aPostAdmittedAgainKeepsItsFirstAdmission() throws {
        let admitted = AdmittedPosts()
        var made = 0
        let make = { () -> AdmittedPosts.Admission in
            made += 1
            return AdmittedPosts.Admission(id: "id\(made)", at: Date(timeIntervalSince1970: Double(made)))
        }
        let first = admitted.admission(of: try accepted("hello"), make: make)
        let again = admitted.admission(of: try accepted("hello"), make: make)
        #expect(!first.again && again.again)
        #expect(again.admission == first.admission)
        #expect(made == 1)
        // Another text, author or client id is another post.
        for other in [try accepted("hello!"), try accepted("hello", clientId: "c2"), try accepted("hello", login: "bob")] {
            let result = admitted.admission(of: other, make: make)
            #expect(!result.again)
        }
        #expect(made == 4)
    }

    @Test func itForgetsAfterItsLifetime() async throws {
        let admitted = AdmittedPosts(lifetime: .milliseconds(20))
        let post = try accepted("hello")
        _ = admitted.admission(of: post) { .init(id: "a", at: Date()) }
        try await Task.sleep(for: .milliseconds(40))
        let later = admitted.admission(of: post) { .init(id: "b", at: Date()) }
        #expect(!later.again && later.admission.id == "b")
    }
}
