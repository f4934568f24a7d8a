/// Files compiled into the binary (scripts/embed_resources.py writes them from
/// Sources/MockApp/Resources; a resource bundle would need Foundation's Bundle).
public enum BundledResources {
    /// The default fixture: the seeds' examples (API.md section 10).
    public static var defaultFixtureBytes: [UInt8]? { bytes(EmbeddedResources.defaultFixture) }

    public static var openAPI: [UInt8]? { bytes(EmbeddedResources.openAPI) }

    static func bytes(_ text: StaticString) -> [UInt8] {
        Array(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
