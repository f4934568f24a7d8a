import Foundation

/// Files shipped inside the binary's resource bundle.
public enum BundledResources {
    /// The default fixture: the seeds' examples (API.md section 10).
    public static var defaultFixtureBytes: [UInt8]? { bytes("default-fixture.json") }

    public static var openAPI: [UInt8]? { bytes("openapi.json") }

    static func bytes(_ name: String) -> [UInt8]? {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return [UInt8](data)
    }
}
