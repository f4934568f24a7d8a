import CLibevent
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The connection budget, kept by the kernel: the process may hold `maxConnections`
/// descriptors beyond those the server itself uses, so an `accept` past the budget fails
/// with EMFILE, like one past the machine's own limit. evhttp's listener would then log
/// a warning and retry at once, forever (a spin that writes megabytes of warnings a
/// second); here a spare descriptor is given up for a moment to accept the waiting
/// connection and close it at once, so a connection past the budget is refused, the
/// loop goes on serving the others, and one warning a second at most says so.
final class ConnectionBudget {
    private var spare: Int32 = -1
    /// Connections refused since the start (the warnings show it).
    private(set) var refused = 0
    private var lastWarning = 0
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// Sets the process's descriptor limit to `maxConnections` beyond what is open now
    /// (within the hard limit), and keeps the spare. Returns the budget in effect.
    func apply(maxConnections: Int) -> Int {
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
        // Nothing the server does later opens a file, so the count is exact: the spare, open
        // already, is what refusing needs.
        let inUse = Self.openDescriptors()
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return maxConnections }
        let wanted = rlim_t(maxConnections + inUse)
        limit.rlim_cur = min(wanted, limit.rlim_max)  // RLIM_INFINITY is the largest value
        guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return maxConnections }
        let budget = Int(limit.rlim_cur) - inUse
        if budget < maxConnections {
            logger.notice(
                "connection budget: \(budget) (the descriptor hard limit allows no more than that; --max-connections is \(maxConnections))"
            )
        }
        return budget
    }

    /// evhttp's listener failed an accept (called on the loop with its errno).
    func acceptFailed(listener: Int32, error: Int32) {
        if error == EMFILE || error == ENFILE {
            refuseWaiting(on: listener)
        }
        let now = LibeventServer.monotonicMillis()
        guard now - lastWarning >= 1000 else { return }
        lastWarning = now
        if error == EMFILE || error == ENFILE {
            logger.warning(
                "connection budget reached (out of descriptors): new connections are closed until others end (\(refused) so far)"
            )
        } else {
            logger.warning("accept failed: \(String(cString: strerror(error)))")
        }
    }

    /// Accepts and closes what waits on the listener, using the spare descriptor's slot.
    private func refuseWaiting(on listener: Int32) {
        guard spare >= 0 else { return }
        close(spare)
        spare = -1
        // Bounded, so that a flood cannot hold the loop; the listener fires again for the rest.
        for _ in 0..<64 {
            let fd = accept(listener, nil, nil)
            if fd < 0 { break }
            refused += 1
            close(fd)
            // Another accept needs the slot again: only one is free.
        }
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    static func openDescriptors() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return 16 }
        defer { closedir(dir) }
        var count = -1  // the directory's own descriptor
        while readdir(dir) != nil { count += 1 }
        return max(0, count - 2)  // "." and ".."
    }

    deinit { if spare >= 0 { close(spare) } }
}
