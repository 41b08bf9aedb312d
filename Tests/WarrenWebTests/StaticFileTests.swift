import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WarrenWeb

@Suite("Static files")
struct StaticFileTests {
    static let expectedCSP =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self' wss://chat.example.org:15673; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    static func expectSecurityHeaders(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.headers[.contentSecurityPolicy] == expectedCSP, sourceLocation: sourceLocation)
        #expect(response.headers[.xContentTypeOptions] == "nosniff", sourceLocation: sourceLocation)
        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", sourceLocation: sourceLocation)
        #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", sourceLocation: sourceLocation)
    }

    @Test("/ serves index.html as HTML, uncached, with the security headers")
    func indexAtRoot() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.cacheControl] == "no-cache")
                #expect(String(buffer: response.body).contains("<title>Warren</title>"))
                Self.expectSecurityHeaders(response)
            }
            try await client.execute(uri: "/index.html", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("test page"))
            }
        }
    }

    @Test(
        "Each kind of file gets its content type",
        arguments: [
            ("/app.js", "text/javascript; charset=utf-8"),
            ("/style.css", "text/css; charset=utf-8"),
            ("/logo.svg", "image/svg+xml"),
            ("/pixel.png", "image/png"),
            ("/data.json", "application/json"),
            ("/favicon.ico", "image/vnd.microsoft.icon"),
        ]
    )
    func contentTypes(path: String, contentType: String) async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == contentType)
                Self.expectSecurityHeaders(response)
            }
        }
    }

    @Test("Scripts are revalidated, images may be kept an hour")
    func cacheControl() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/app.js", method: .get) { response in
                #expect(response.headers[.cacheControl] == "no-cache")
            }
            try await client.execute(uri: "/logo.svg", method: .get) { response in
                #expect(response.headers[.cacheControl] == "max-age=3600")
            }
        }
    }

    @Test("A matching If-None-Match gets 304 with no body")
    func notModified() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            let eTag = try await client.execute(uri: "/app.js", method: .get) { response in
                #expect(response.status == .ok)
                return try #require(response.headers[.eTag])
            }
            try await client.execute(uri: "/app.js", method: .get, headers: [.ifNoneMatch: eTag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.eTag] == eTag)
                Self.expectSecurityHeaders(response)
            }
            try await client.execute(uri: "/app.js", method: .get, headers: [.ifNoneMatch: "W/\"other\""]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("HEAD answers with the headers of GET and no body")
    func head() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/app.js", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(response.headers[.contentLength] == "26")
                #expect(response.body.readableBytes == 0)
                Self.expectSecurityHeaders(response)
            }
        }
    }

    @Test("A missing file is 404, still with the security headers")
    func missingFile() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: "/nope.js", method: .get) { response in
                #expect(response.status == .notFound)
                Self.expectSecurityHeaders(response)
            }
        }
    }

    @Test(
        "Paths cannot climb out of the web root",
        arguments: [
            "/../Package.swift",
            "/%2e%2e/Package.swift",
            "/%2E%2E/secret.txt",
            "/..%2fsecret.txt",
            "/%2e%2e%2fsecret.txt",
            "/app.js/../../secret.txt",
            "/./../secret.txt",
        ]
    )
    func pathTraversal(path: String) async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .badRequest || response.status == .notFound)
                #expect(!String(buffer: response.body).contains(WebFixture.secret))
                Self.expectSecurityHeaders(response)
            }
        }
    }

    @Test("The application serves over a real socket too")
    func live() async throws {
        let fixture = try WebFixture()
        let app = buildApplication(configuration: fixture.configuration, brokerReachable: { true }, logger: .quiet)
        try await app.test(.live) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                Self.expectSecurityHeaders(response)
            }
        }
    }
}
