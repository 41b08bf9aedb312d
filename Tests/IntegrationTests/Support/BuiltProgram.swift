import Foundation

/// The package's programs that `swift build --build-tests` and `swift test` put beside the
/// test binary, for tests that run them as a user would.
enum BuiltProgram {
    /// The path of the program `name` beside this test binary, nil when it is not there.
    static func path(_ name: String) -> String? {
        guard let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let program = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: program) ? program : nil
    }
}
