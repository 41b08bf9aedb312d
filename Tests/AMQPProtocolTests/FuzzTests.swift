import AMQPProtocol
import NIOCore
import Testing

/// Bounded, seeded fuzzing: every input must end in frames, "need more" or a typed error.
@Suite("Decoder fuzzing")
struct FuzzTests {
    private static let iterations = 20_000

    /// Feeds `input` to a fresh decoder until it needs more bytes or throws.
    /// Each successful decode consumes at least 8 bytes, so the loop is bounded by the input size;
    /// the explicit bound turns a decoder that stops consuming into a test failure, not a hang.
    private func drive(_ input: ByteBuffer, maxFrameSize: UInt32) -> Bool {
        var buffer = input
        var decoder = AMQPFrameDecoder(maxFrameSize: maxFrameSize)
        for _ in 0...(input.readableBytes / 8 + 1) {
            let before = buffer.readableBytes
            do {
                guard try decoder.decode(buffer: &buffer) != nil else { return true }
            } catch is AMQPProtocolError {
                return true
            } catch {
                Issue.record("untyped error \(error)")
                return false
            }
            if buffer.readableBytes >= before - 7 {
                Issue.record("a frame consumed fewer than 8 bytes")
                return false
            }
        }
        Issue.record("decoder did not stop")
        return false
    }

    @Test("random buffers")
    func randomBuffers() {
        var rng = SeededGenerator(seed: 0xA3A9_0091)
        let frameTypes: [UInt8] = [1, 2, 3, 8]
        var buffer = ByteBuffer()
        for _ in 0..<Self.iterations {
            buffer.clear()
            let length = Int.random(in: 0...64, using: &rng)
            for index in 0..<length {
                var byte = UInt8.random(in: 0...255, using: &rng)
                // Start most inputs with a valid frame type, and keep sizes small, so the fuzzing
                // reaches the payload parsers.
                if index == 0, byte < 200 { byte = frameTypes[Int(byte) % 4] }
                if (3...4).contains(index), byte < 200 { byte = 0 }
                buffer.writeInteger(byte)
            }
            guard self.drive(buffer, maxFrameSize: 4096) else { return }
        }
    }

    @Test("mutated valid frames: flipped bytes, truncations, changed lengths")
    func mutatedFrames() throws {
        var rng = SeededGenerator(seed: 0x0009_0001)
        var valid: [[UInt8]] = []
        for (index, method) in allMethodSamples().enumerated() {
            valid.append(try encoded(Frame(channel: UInt16(index % 3), payload: .method(method))).bytes)
        }
        let header = ContentHeader(bodySize: 3, properties: BasicProperties(
            contentType: "a", headers: sampleTable(variant: 0), deliveryMode: 2, timestamp: 1, appID: "w"
        ))
        valid.append(try encoded(Frame(channel: 1, payload: .header(header))).bytes)
        valid.append(try encoded(Frame(channel: 1, payload: .body(ByteBuffer(string: "abc")))).bytes)
        valid.append(try encoded(.heartbeat).bytes)

        for _ in 0..<Self.iterations {
            var bytes = valid.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                switch Int.random(in: 0..<5, using: &rng) {
                case 0:  // flip a byte
                    let index = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[index] ^= UInt8.random(in: 1...255, using: &rng)
                case 1:  // truncate
                    bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng))
                case 2:  // change the frame size field, keeping the rest
                    if bytes.count >= 7 {
                        let size = UInt32.random(in: 0...UInt32.max, using: &rng) >> UInt32.random(in: 0...31, using: &rng)
                        withUnsafeBytes(of: size.bigEndian) { bytes.replaceSubrange(3..<7, with: $0) }
                    }
                case 3:  // overwrite a would-be length field inside the payload
                    if bytes.count > 12 {
                        let index = Int.random(in: 7..<(bytes.count - 4), using: &rng)
                        let value = ([0, 1, 0xFF, 0x7F, 0x80] as [UInt8]).randomElement(using: &rng)!
                        bytes.replaceSubrange(index..<(index + 4), with: [value, value, value, value])
                    }
                default:  // insert or delete a byte in the payload, keeping the frame end
                    if bytes.count > 8 {
                        let index = Int.random(in: 7..<(bytes.count - 1), using: &rng)
                        if Bool.random(using: &rng) {
                            bytes.remove(at: index)
                        } else {
                            bytes.insert(UInt8.random(in: 0...255, using: &rng), at: index)
                        }
                    }
                }
                if bytes.isEmpty { break }
            }
            guard self.drive(ByteBuffer(bytes: bytes), maxFrameSize: 0) else { return }
        }
    }
}
