import Testing
@testable import AMQPProtocol
