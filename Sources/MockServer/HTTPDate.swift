#if canImport(Glibc)
    import Glibc
#endif

/// The `Date` header of every whole reply (RFC 9110 section 6.6.1: `Sun, 06 Nov 1994 08:49:37
/// GMT`), from the real time, not the mock's clock: it says when the reply was sent. Written
/// once a second; evhttp wrote it for every reply, with `gmtime` and `snprintf` (with the
/// `Content-Length` it printed, 7% of a list-threads request).
struct HTTPDate {
    private var second = -1
    private(set) var text = ""

    /// The value for now.
    mutating func now() -> String {
        // Not `time()`: it reads a coarse clock that lags the real one by a few milliseconds
        // just after each second begins.
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seconds = now.tv_sec
        if seconds != second {
            second = seconds
            text = Self.format(seconds)
        }
        return text
    }

    static func format(_ seconds: Int) -> String {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
