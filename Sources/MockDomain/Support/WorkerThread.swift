#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One POSIX thread running one closure. Whatever the closure wrote is read only after
/// `join()`, which orders its writes before the reader's. Used where a second core can
/// share one large piece of work while the event loop waits for it (a large fixture's
/// sessions before the server serves, a large state export); the loop itself stays on one
/// thread.
final class WorkerThread {
    private var thread: pthread_t?
    private let body: () -> Void

    /// Starts `body` on a thread of its own; nil when the system will not start one.
    init?(_ body: @escaping () -> Void) {
        self.body = body
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        // As deep as the main thread's usual stack: a session is read the same way there.
        pthread_attr_setstacksize(&attributes, 8 << 20)
        let context = Unmanaged.passRetained(self)
        #if canImport(Glibc)
            var started = pthread_t()
        #else
            var started: pthread_t?
        #endif
        let result = pthread_create(
            &started, &attributes,
            { raw in
                let worker = Unmanaged<WorkerThread>.fromOpaque(raw!).takeRetainedValue()
                worker.body()
                return nil
            }, context.toOpaque())
        guard result == 0 else {
            context.release()
            return nil
        }
        thread = started
    }

    /// Waits for the closure to return (once; later calls return at once).
    func join() {
        guard let running = thread else { return }
        thread = nil
        pthread_join(running, nil)
    }

    deinit { join() }
}

/// A lock and a condition: what one thread hands another, under the lock, and waits for.
final class Handoff<State> {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var state: State

    init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        changed.deallocate()
    }

    /// Changes the state under the lock and wakes every waiter; `waking: false` when the
    /// change is nothing a waiter waits for (a wake-up costs the other thread a switch).
    func update<R>(waking: Bool = true, _ change: (inout State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer {
            if waking { pthread_cond_broadcast(changed) }
            pthread_mutex_unlock(mutex)
        }
        return change(&state)
    }

    /// Waits until `take` returns a value (it runs under the lock each time the state
    /// changes, and may change it), and returns that value.
    func wait<R>(_ take: (inout State) -> R?) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let value = take(&state) { return value }
            pthread_cond_wait(changed, mutex)
        }
    }
}
