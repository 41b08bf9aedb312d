import CoreMetrics

/// What a connection reports through swift-metrics: frames and bytes in and out, and the
/// publishes waiting for the broker's confirm.
///
/// The names are the library's (`amqp.client.frames`, `amqp.client.bytes` with `direction` in or
/// out, `amqp.client.confirms.outstanding`); an application's metrics backend may rename them
/// (Warren's does: `warren_amqp_*`). Made in ``AMQPConnection/connect(configuration:eventLoopGroup:logger:)``,
/// in the caller's task, so a task-local metrics factory applies; without a bootstrapped backend
/// swift-metrics' no-op handlers take the counts.
struct AMQPInstruments: Sendable {
    let framesIn = Counter(label: "amqp.client.frames", dimensions: [("direction", "in")])
    let framesOut = Counter(label: "amqp.client.frames", dimensions: [("direction", "out")])
    let bytesIn = Counter(label: "amqp.client.bytes", dimensions: [("direction", "in")])
    let bytesOut = Counter(label: "amqp.client.bytes", dimensions: [("direction", "out")])
    /// Shared by every connection of the process: each adds what changed of its own count.
    let confirms = Meter(label: "amqp.client.confirms.outstanding")
}
