/// Placeholder: replaced as the AMQPProtocol target gets real content.
enum AMQPProtocolPlaceholder {}
