import Testing
import WarrenCore

@testable import WarrenServices

@Suite struct TurnKeyTests {
    @Test func aLoginAndALogoutOfOneTabTakeTurnsOnOneKey() {
        let session = String(repeating: "s", count: 24)
        let login = LoginRequest(action: .login, login: "alice", session: session).encode()
        let logout = LoginRequest(action: .logout, login: "alice", session: session).encode()
        let otherTab = LoginRequest(action: .login, login: "alice", session: String(repeating: "t", count: 24)).encode()
        #expect(LoginRequest.turnKey(of: login) == LoginRequest.turnKey(of: logout))
        #expect(LoginRequest.turnKey(of: login) != LoginRequest.turnKey(of: otherTab))
    }

    @Test func anUnreadableRequestGetsAKeyNoTabCanHave() {
        #expect(LoginRequest.turnKey(of: Array("not json".utf8)) == "?8")
    }
}
