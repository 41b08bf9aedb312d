// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "warren",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AMQPProtocol", targets: ["AMQPProtocol"]),
        .library(name: "AMQPClient", targets: ["AMQPClient"]),
        .library(name: "ProofOfWork", targets: ["ProofOfWork"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "AMQPProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "AMQPClient",
            dependencies: [
                "AMQPProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(name: "ProofOfWork"),
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
            name: "AMQPClientTests",
            dependencies: [
                "AMQPClient",
                "AMQPProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
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
                "AMQPClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
    ]
)
