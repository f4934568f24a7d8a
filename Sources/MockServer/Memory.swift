import CLibevent

/// The process's heap, as far as the C library lets us steer it.
public enum ProcessMemory {
    /// Hands the heap's free pages back to the system (glibc keeps them by default), so
    /// that resident memory after a big load or reset is the world's, not the load's peak.
    public static func returnFreePages() {
        #if os(Linux)
            malloc_trim(0)
        #endif
    }
}
