import AMQPClient

extension AMQPRecoveryPolicy {
    /// How Warren's roles, the web role's broker link and `warren tail` reconnect: 0.1 s doubling
    /// to at most 2 s (minus the usual jitter). A role is one connection, so trying every 2 s
    /// while the broker is away costs the broker nothing (a refused connection is the kernel's).
    /// The library's 30-s cap made the login service come back up to 13 s after the broker did
    /// (after a graceful restart, which keeps the node away about 15 s), and every tab's sign-in
    /// waited for it (Benchmarks/tabs/README.md, "a shorter reconnect cap").
    public static let roles = AMQPRecoveryPolicy(maxDelay: .seconds(2))
}
