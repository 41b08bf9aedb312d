import AMQPClient
import ArgumentParser
import Logging
import ServiceLifecycle
import WarrenCore
import WarrenServices

import Foundation

/// `warren tail`: prints the room live.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print every room live, one event a line.",
        discussion: """
            Binds a private, exclusive auto-delete queue to <prefix>.rooms with room.# and prints \
            every event that reaches a room, with #room before events outside general (errors go \
            to single tabs, so they do not show). Stops on \
            SIGINT or SIGTERM; the queue goes with the connection.

            Environment (also read from .env): WARREN_AMQP_URL, WARREN_PREFIX.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Print the raw JSON of each event instead.")
    var json = false

    func run() async throws {
        let configuration = try self.options.bootstrap()
        let amqp = try ServiceWiring.amqp(configuration, name: "tail")
        let logger = Logger(label: "warren.tail")
        let tail = RoomTail(rooms: configuration.topology.rooms, json: self.json)
        // A role like the others: connected to any node, and to the next when its node goes.
        try await runServices([RoleService(role: tail, amqp: amqp, logger: logger)], logger: logger)
    }
}

/// The tail loop as a role, so signals stop it cleanly and a lost connection is made again
/// (events published meanwhile are not shown: the queue is the connection's).
struct RoomTail: WarrenRole {
    let name = "tail"
    let rooms: String
    let json: Bool

    func run(on connection: AMQPConnection) async throws {
        let channel = try await connection.openChannel()
        // The rooms exchange is declared by the roles; declare it too so tail may start first.
        try await channel.exchangeDeclare(self.rooms, type: "topic", durable: true)
        let queue = try await channel.queueDeclare("", exclusive: true, autoDelete: true).queue
        try await channel.queueBind(queue: queue, exchange: self.rooms, routingKey: Topology.historyBindingKey)
        let consumer = try await channel.consume(queue: queue, noAck: true)
        for try await delivery in consumer.cancelOnGracefulShutdown() {
            if self.json {
                writeLine(delivery.bodyString)
            } else if let event = try? RoomEvent.decode(delivery.body.readableBytesView) {
                writeLine(EventLine.format(event))
            } else {
                writeLine("(not a room event: \(delivery.body.readableBytes) bytes)")
            }
        }
    }
}
