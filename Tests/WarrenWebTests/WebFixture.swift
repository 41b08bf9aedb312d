import Foundation
import Logging
import WarrenWeb

/// A throw-away web root with one file of each served kind, and secrets just outside it.
///
/// The layout mirrors the repository's, `base/web/` beside `base/Package.swift`, so that
/// `/../Package.swift` names a real file that must stay out of reach.
struct WebFixture: ~Copyable {
    let base: URL
    let root: URL
    static let secret = "SECRET-OUTSIDE-THE-WEB-ROOT"

    init() throws {
        self.base = FileManager.default.temporaryDirectory
            .appendingPathComponent("warren-web-tests-\(UUID().uuidString)", isDirectory: true)
        self.root = self.base.appendingPathComponent("web", isDirectory: true)
        try FileManager.default.createDirectory(at: self.root, withIntermediateDirectories: true)
        let files: [String: String] = [
            "index.html": "<!doctype html><title>Warren</title><p>test page</p>",
            "app.js": "export const answer = 42;\n",
            "style.css": "body { margin: 0; }\n",
            "logo.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "pixel.png": "not really a png",
            "data.json": "{\"a\":1}",
            "favicon.ico": "not really an icon",
        ]
        for (name, text) in files {
            try Data(text.utf8).write(to: self.root.appendingPathComponent(name))
        }
        try Data(Self.secret.utf8).write(to: self.base.appendingPathComponent("Package.swift"))
        try Data(Self.secret.utf8).write(to: self.base.appendingPathComponent("secret.txt"))
    }

    deinit {
        try? FileManager.default.removeItem(at: self.base)
    }

    /// A configuration serving this fixture, with recognisable browser-facing values.
    var configuration: WebConfiguration {
        WebConfiguration(
            webRoot: self.root.path,
            stompURL: "wss://chat.example.org:15673/ws",
            stompVHost: "test-vhost",
            prefix: "team-a.chat",
            powBits: 12
        )
    }
}

extension Logger {
    /// A logger that keeps test output to test results; failures show through `#expect`, not logs.
    static var quiet: Logger {
        var logger = Logger(label: "warren.web.tests")
        logger.logLevel = .critical
        return logger
    }
}
