/// Makes ids of the form `prefix_` + 32 lowercase hex digits in the UUIDv7 layout
/// (48-bit millisecond time, version nibble 7, variant bits, random rest), so ids
/// sort in creation order like the seeds' `019f…`. Seeded, the random part is
/// reproducible; within one millisecond a counter keeps ids strictly increasing.
public final class IDGenerator {
    private var rng: SplitMix64
    private let clock: MockClock
    private var lastMillis: Int64 = -1
    private var counter: UInt16 = 0  // the 12-bit rand_a field

    public init(seed: UInt64?, clock: MockClock) {
        var system = SystemRandomNumberGenerator()
        self.rng = SplitMix64(seed: seed ?? system.next())
        self.clock = clock
    }

    public func reseed(_ seed: UInt64?) {
        var system = SystemRandomNumberGenerator()
        rng = SplitMix64(seed: seed ?? system.next())
        lastMillis = -1
    }

    /// After the clock was set back (`/_mock/clock/freeze` at an earlier instant),
    /// new ids carry the clock's time again instead of staying after the latest id
    /// made: a test that freezes the clock gets ids whose time bits match `created_at`.
    public func followClock() {
        if clock.now() < lastMillis { lastMillis = -1 }
    }

    public func make(_ prefix: String) -> String {
        var millis = max(clock.now(), 0)
        if millis <= lastMillis {
            millis = lastMillis
            counter &+= 1
            if counter > 0x0FFF {
                millis += 1
                counter = UInt16(truncatingIfNeeded: rng.next() & 0x07FF)
            }
        } else {
            // Leave headroom below 0x0FFF so a burst in one millisecond stays ordered.
            counter = UInt16(truncatingIfNeeded: rng.next() & 0x07FF)
        }
        lastMillis = millis
        let randB = rng.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        let high = UInt64(millis & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | UInt64(counter)
        return Self.id(prefix, high, randB)
    }

    /// `prefix_` and the two words as 32 lowercase hex digits, written in one allocation
    /// (every request id goes through here).
    static func id(_ prefix: String, _ high: UInt64, _ low: UInt64) -> String {
        let digits: StaticString = "0123456789abcdef"
        let head = prefix.utf8.count
        return String(unsafeUninitializedCapacity: head + 33) { out in
            var i = 0
            for b in prefix.utf8 {
                out[i] = b
                i += 1
            }
            out[i] = UInt8(ascii: "_")
            i += 1
            // Each word from its top nibble down, with constant shifts (a loop per word).
            for word in [high, low] {
                var shift: UInt64 = 64
                while shift > 0 {
                    shift -= 4
                    out[i] = digits.utf8Start[Int(truncatingIfNeeded: (word &>> shift) & 0xF)]
                    i += 1
                }
            }
            return i
        }
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64): the same
/// numbers for the same seed on every machine.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
