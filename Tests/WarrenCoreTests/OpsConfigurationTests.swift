import Testing
import WarrenCore

/// `WARREN_ADMINS` and `WARREN_MGMT_URL`: who may open the operator's page, and where the web
/// role reads the broker's management API.
struct OpsConfigurationTests {
    @Test func adminsAreLoginNamesSeparatedByCommas() throws {
        #expect(WarrenConfiguration.defaults.admins == [])
        let configuration = try WarrenConfiguration.load(environment: ["WARREN_ADMINS": " alice, bob.b ,,alice"], envFile: nil)
        #expect(configuration.admins == ["alice", "bob.b"])
        #expect(throws: ConfigurationError.self) { try WarrenConfiguration.load(environment: ["WARREN_ADMINS": "alice, b b"], envFile: nil) }
    }

    @Test func theManagementURLIsHTTPOrOff() throws {
        #expect(WarrenConfiguration.defaults.mgmtURL == "http://127.0.0.1:15672")
        #expect(try WarrenConfiguration.load(environment: ["WARREN_MGMT_URL": "off"], envFile: nil).mgmtURL == nil)
        let named = try WarrenConfiguration.load(environment: ["WARREN_MGMT_URL": "http://ops:secret@rabbit:15672"], envFile: nil)
        #expect(named.mgmtURL == "http://ops:secret@rabbit:15672")
        do {
            _ = try WarrenConfiguration.load(environment: ["WARREN_MGMT_URL": "ftp://ops:secret@rabbit"], envFile: nil)
            Issue.record("an ftp URL was taken")
        } catch {
            #expect(error.description.contains("WARREN_MGMT_URL"))
            #expect(!error.description.contains("secret"), "the password is hidden")
        }
    }
}
