import Testing

@testable import WarrenWeb

@Suite("The URL to open")
struct BrowserURLTests {
    @Test(
        "A wildcard address becomes localhost; IPv6 gets brackets",
        arguments: [
            ("127.0.0.1", "http://127.0.0.1:8080/"),
            ("0.0.0.0", "http://localhost:8080/"),
            ("::", "http://localhost:8080/"),
            ("::1", "http://[::1]:8080/"),
            ("chat.example.org", "http://chat.example.org:8080/"),
        ]
    )
    func url(host: String, expected: String) {
        #expect(browserURL(host: host, port: 8080) == expected)
    }
}
