extension WarrenConfiguration {
    /// The level a process logs at: `option` (the `--log-level` flag) when given, else
    /// ``logLevel``, which came from the environment, then `.env`, then the default.
    ///
    /// The one place the choice is made, so a level set in `.env` is honoured like one set in
    /// the environment.
    public func logLevel(overriddenBy option: LogLevel?) -> LogLevel {
        option ?? self.logLevel
    }
}
