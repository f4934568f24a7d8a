// swift-tools-version:6.0
// The list-threads endpoint written the way a Swift server team would write it on
// Hummingbird 2: Codable models loaded once from the mock's fixture, JSONEncoder per request.
// Only the throughput benchmark (bench/throughput.py) builds and runs it.
import PackageDescription

let package = Package(
    name: "threads-peer",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        .executableTarget(
            name: "ThreadsPeer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        )
    ]
)
