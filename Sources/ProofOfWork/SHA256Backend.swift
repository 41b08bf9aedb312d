import CSHA256

/// A SHA-256 implementation the solver and the checks can run on.
///
/// The default everywhere is ``best``; naming one lets tests and benchmarks exercise each path.
public enum SHA256Backend: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Portable C; runs everywhere.
    case portable
    /// x86-64 SHA extensions (SHA-NI), used when cpuid leaf 7 reports them.
    case x86SHANI = "x86-sha-ni"
    /// ARMv8 SHA-2 instructions, compiled in when the compiler targets them (e.g. Apple silicon).
    case armv8SHA2 = "armv8-sha2"

    var code: Int32 {
        switch self {
        case .portable: CSHA256_BACKEND_PORTABLE
        case .x86SHANI: CSHA256_BACKEND_X86_SHANI
        case .armv8SHA2: CSHA256_BACKEND_ARMV8
        }
    }

    /// Whether this backend can run on this machine.
    public var isAvailable: Bool { csha256_backend_available(code) != 0 }

    /// Every backend that can run here, fastest first.
    public static var available: [SHA256Backend] {
        [.x86SHANI, .armv8SHA2, .portable].filter(\.isAvailable)
    }

    /// The fastest backend that can run here.
    public static var best: SHA256Backend { available.first ?? .portable }

    /// The backend's name, e.g. `x86-sha-ni`.
    public var description: String { rawValue }

    /// The SHA-256 digest of `bytes` (32 bytes).
    public func digest(of bytes: some Sequence<UInt8>) -> [UInt8] {
        let message = Array(bytes)
        var out = [UInt8](repeating: 0, count: 32)
        message.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                csha256_digest(code, input.baseAddress, input.count, output.baseAddress)
            }
        }
        return out
    }

    /// The proof-of-work hash: SHA-256 of the challenge's UTF-8 followed by the nonce in decimal.
    public func proofHash(challenge: String, nonce: UInt64) -> [UInt8] {
        digest(of: Array(challenge.utf8) + Array(String(nonce).utf8))
    }

    /// Digests of `challenge ++ decimal(nonce)` for nonces `start`, `start + 1`, ... (`count` of
    /// them, `start + count - 1` at most UInt64.max), computed by the search loop itself
    /// (midstate, in-place digit increments); used to test each path.
    func searchLoopDigests(challenge: String, start: UInt64, count: Int) -> [[UInt8]] {
        let job = SearchJob(challenge: challenge, backend: self)
        var flat = [UInt8](repeating: 0, count: count * 32)
        flat.withUnsafeMutableBufferPointer { out in
            withUnsafePointer(to: job.raw) { jobPointer in
                csha256_search_digests(code, jobPointer, start, UInt64(count), out.baseAddress)
            }
        }
        return (0..<count).map { Array(flat[($0 * 32)..<($0 * 32 + 32)]) }
    }
}

/// The nonce-independent part of a search: midstate and challenge tail.
struct SearchJob: Sendable {
    var raw: csha256_job

    init(challenge: String, backend: SHA256Backend) {
        raw = csha256_job()
        let bytes = Array(challenge.utf8)
        bytes.withUnsafeBufferPointer { input in
            csha256_job_init(&raw, backend.code, input.baseAddress, input.count)
        }
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hexadecimal.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The number of leading zero bits.
    var leadingZeroBits: Int {
        var bits = 0
        for byte in self {
            if byte == 0 {
                bits += 8
            } else {
                return bits + byte.leadingZeroBitCount
            }
        }
        return bits
    }
}
