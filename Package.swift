// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "warren",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AMQPProtocol", targets: ["AMQPProtocol"]),
        .library(name: "ProofOfWork", targets: ["ProofOfWork"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "AMQPProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(name: "CSHA256"),
        .target(name: "ProofOfWork", dependencies: ["CSHA256"]),
        .executableTarget(
            name: "pow-bench",
            dependencies: ["ProofOfWork"],
            path: "Benchmarks/pow/pow-bench"
        ),
        .target(name: "WarrenCore"),
        .testTarget(
            name: "AMQPProtocolTests",
            dependencies: [
                "AMQPProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ProofOfWorkTests",
            dependencies: ["ProofOfWork", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "WarrenCoreTests", dependencies: ["WarrenCore"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "AMQPProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
    ]
)
