import CLibevent

/// The process's heap, as far as the C library lets us steer it.
public enum ProcessMemory {
    /// Fixes glibc's threshold for mapping large blocks (and with it the heap's trim
    /// threshold). Left to itself, glibc raises the threshold to the size of the first large
    /// mapped block freed (up to 32 MiB) and then keeps up to twice that unused in the heap: a
    /// soak whose worlds export about 5 MB stepped 12 MiB higher in idle memory at a random
    /// round and stayed there. Fixed, blocks from 256 KiB on are mapped and given back as soon
    /// as they are freed, and idle memory is the world's.
    public static func fixThresholds() {
        #if os(Linux)
            _ = mallopt(M_MMAP_THRESHOLD, 256 << 10)
        #endif
    }

    /// Hands the heap's free pages back to the system (glibc keeps them by default), so
    /// that resident memory after a big load or reset is the world's, not the load's peak.
    public static func returnFreePages() {
        #if os(Linux)
            malloc_trim(0)
        #endif
    }
}
