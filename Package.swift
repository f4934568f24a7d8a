// swift-tools-version:6.0
import PackageDescription

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
        // The small pure-Swift HTTP vocabulary shared by the domain and the adapter.
        .target(name: "MockHTTP"),
        // Every rule of the emulated API: store, router, JSON, fixtures, streams, control API.
        .target(
            name: "MockCore",
            dependencies: [
                "MockHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")]
        ),
        // The libevent adapter: the only code that touches C pointers.
        .target(
            name: "MockServer",
            dependencies: [
                "CLibevent", "MockHTTP", "MockCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "cloud-agents-mock",
            dependencies: [
                "MockServer", "MockCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "MockCoreTests", dependencies: ["MockCore", "MockHTTP"]),
        .testTarget(
            name: "MockServerTests",
            dependencies: ["MockServer", "MockHTTP", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
