#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The domain's only source of time. Real time by default; a test can freeze it
/// at an instant and advance it (the control API's `/_mock/clock`).
public final class MockClock {
    public enum Mode: Equatable {
        case real
        /// Stopped at this many milliseconds since the Unix epoch.
        case frozen(Int64)
        /// Real time plus an offset in milliseconds.
        case offset(Int64)
    }

    public private(set) var mode: Mode
    /// The mode the clock was made with (`--frozen-clock` freezes it from the
    /// start); `POST /_mock/reset` returns to it rather than to real time, so a
    /// reset keeps a reproducible run reproducible.
    public let startMode: Mode
    private let realNow: () -> Int64

    public init(mode: Mode = .real, realNow: @escaping () -> Int64 = MockClock.systemMillis) {
        self.mode = mode
        self.startMode = mode
        self.realNow = realNow
    }

    /// Milliseconds since the Unix epoch. A clock moved ahead keeps running, but stops at
    /// the last instant RFC 3339 can write (9999-12-31T23:59:59.999Z): past it, a timestamp
    /// could not be written in the API's format, nor an exported state load again.
    public func now() -> Int64 {
        switch mode {
        case .real: realNow()
        case .frozen(let at): at
        case .offset(let delta): min(realNow() + delta, Timestamp.latest)
        }
    }

    public func freeze(at millis: Int64? = nil) { mode = .frozen(millis ?? now()) }

    /// Moves time forward. A frozen clock stays frozen; a running one keeps running, ahead.
    public func advance(by millis: Int64) {
        switch mode {
        case .real: mode = .offset(millis)
        case .frozen(let at): mode = .frozen(at + millis)
        case .offset(let delta): mode = .offset(delta + millis)
        }
    }

    public func resume() { mode = .real }

    /// Back to the mode the clock started in (reset).
    public func restart() { mode = startMode }

    public static func systemMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
