// swift-tools-version:6.0
import PackageDescription

// The module graph (the README's "Architecture" section draws it):
//
//   cloud-agents-mock (CLI) ─┬─> MockServer ──> CLibevent, MockHTTP
//                            └─> MockApp ─────> MockDomain ──> MockJSON
//                                          └──> MockHTTP, MockJSON
//
// The compiler keeps the rooms apart: the domain cannot see HTTP, the adapter
// cannot see the domain or the app, and only the adapter sees C.
// Release builds leave out the run-time exclusivity checks (every access to a class's
// stored property registers in a per-thread table): they cost 3% of a request and 2.5%
// of a fixture load. Debug builds, which every test suite runs, keep them.
let releaseSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "cloud-agents-mock",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cloud-agents-mock", targets: ["cloud-agents-mock"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // libevent's C API, reached through pkg-config. Only MockServer imports it.
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent_pthreads",
            providers: [.apt(["libevent-dev", "pkg-config"])]
        ),
        // The ordered JSON value, its linear parser and encoder, and the one reader
        // of JSON documents (fields, types, unknown fields, JSON paths).
        .target(name: "MockJSON", swiftSettings: releaseSettings),
        // The HTTP vocabulary: requests, responses, headers, query strings, replies,
        // stream sinks and timers. Pure Swift, shared by the app and the adapter.
        .target(name: "MockHTTP", swiftSettings: releaseSettings),
        // Every rule of the emulated API: models only the store changes, the store,
        // fixtures, clock, ids, pagination. Knows nothing of HTTP.
        .target(name: "MockDomain", dependencies: ["MockJSON"], swiftSettings: releaseSettings),
        // The application: routes, the request pipeline, the control API, streams
        // (hub, SSE framing, heartbeats) and observability (journal, faults).
        .target(
            name: "MockApp",
            dependencies: [
                "MockDomain", "MockJSON", "MockHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            // Compiled in by scripts/embed_resources.py (EmbeddedResources.swift) instead of
            // shipped as a bundle: no Foundation in the server.
            exclude: ["Resources"],
            swiftSettings: releaseSettings
        ),
        // The libevent adapter: the only code that touches C pointers.
        .target(
            name: "MockServer",
            dependencies: [
                "CLibevent", "MockHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseSettings
        ),
        .executableTarget(
            name: "cloud-agents-mock",
            dependencies: [
                "MockServer", "MockApp", "MockDomain", "MockJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseSettings
        ),
        .testTarget(name: "MockJSONTests", dependencies: ["MockJSON"]),
        .testTarget(name: "MockAppTests", dependencies: ["MockApp", "MockDomain", "MockJSON", "MockHTTP"]),
        .testTarget(
            name: "MockServerTests",
            dependencies: ["MockServer", "MockHTTP", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
