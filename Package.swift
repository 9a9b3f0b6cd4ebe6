// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

/// The shared libraries, in dependency order.
var targets: [Target] = [
    .systemLibrary(
        name: "CRabbitMQ", path: "Shared/CRabbitMQ", pkgConfig: "librabbitmq",
        providers: [.apt(["librabbitmq-dev"])]),
    .systemLibrary(
        name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
    .systemLibrary(
        name: "CCurl", path: "Shared/CCurl", pkgConfig: "libcurl",
        providers: [.apt(["libcurl4-openssl-dev"])]),
    // The image codecs of the media service.
    .systemLibrary(
        name: "CTurboJPEG", path: "Shared/CTurboJPEG", pkgConfig: "libturbojpeg",
        providers: [.apt(["libturbojpeg0-dev"])]),
    .systemLibrary(name: "CSpng", path: "Shared/CSpng", pkgConfig: "spng", providers: [.apt(["libspng-dev"])]),
    .systemLibrary(name: "CWebP", path: "Shared/CWebP", pkgConfig: "libwebp", providers: [.apt(["libwebp-dev"])]),
    // Schemas/ holds the committed JSON Schema snapshots that `kindred contracts check` reads.
    .target(name: "Contracts", path: "Shared/Contracts", exclude: ["Schemas"], swiftSettings: swiftSettings),
    .target(
        name: "Messaging", dependencies: ["CRabbitMQ", "Contracts", logging, metrics],
        path: "Shared/Messaging", swiftSettings: swiftSettings),
    .target(
        name: "Persistence", dependencies: ["CLibPQ", logging], path: "Shared/Persistence",
        swiftSettings: swiftSettings),
    .target(
        name: "OutboundHTTP", dependencies: ["CCurl"], path: "Shared/OutboundHTTP",
        swiftSettings: swiftSettings),
    // The signed media URLs the gateway mints and media checks.
    .target(
        name: "SignedURLs",
        dependencies: ["Contracts", "ServiceRuntime", .product(name: "Crypto", package: "swift-crypto")],
        path: "Shared/SignedURLs", swiftSettings: swiftSettings),
    .target(
        name: "ServiceRuntime",
        dependencies: [
            "Contracts", "Messaging", "Persistence", hummingbird, logging, metrics, lifecycle,
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        ],
        path: "Shared/ServiceRuntime", swiftSettings: swiftSettings),
    .testTarget(
        name: "ContractsTests", dependencies: ["Contracts", "TestSupport"], path: "Tests/ContractsTests",
        swiftSettings: swiftSettings),
    .testTarget(
        name: "MessagingTests", dependencies: ["Messaging", "Contracts", "TestSupport"],
        path: "Tests/MessagingTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "PersistenceTests", dependencies: ["Persistence", "TestSupport"],
        path: "Tests/PersistenceTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "OutboundHTTPTests",
        dependencies: [
            "OutboundHTTP", "TestSupport", hummingbird,
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ],
        path: "Tests/OutboundHTTPTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "ServiceRuntimeTests", dependencies: ["ServiceRuntime", "TestSupport"],
        path: "Tests/ServiceRuntimeTests", swiftSettings: swiftSettings),
    .target(
        name: "TestSupport",
        dependencies: [
            "Persistence", "Messaging", "OutboundHTTP", "ServiceRuntime", "Contracts", logging,
            .product(name: "Prometheus", package: "swift-prometheus"),
        ],
        path: "Tests/TestSupport", swiftSettings: swiftSettings),
    .target(
        name: "KindredCLI",
        dependencies: [
            "Contracts", "Messaging", "Persistence", logging,
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "Services/Kindred/KindredCLI", swiftSettings: swiftSettings),
    .executableTarget(
        name: "kindred", dependencies: ["KindredCLI"], path: "Services/Kindred/kindred",
        swiftSettings: swiftSettings),
    .testTarget(
        name: "KindredCLITests",
        dependencies: [
            "KindredCLI", "TestSupport", "Contracts", "Messaging", "Persistence", "ServiceRuntime",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "Tests/KindredCLITests", swiftSettings: swiftSettings),
    .executableTarget(
        name: "kindred-bench",
        dependencies: [
            "Contracts", "Messaging", "Persistence", "ServiceRuntime", "KindredCLI", "OutboundHTTP", "CTurboJPEG",
            logging,
        ],
        path: "Benchmarks/kindred-bench", swiftSettings: swiftSettings),
    .testTarget(
        name: "FaultTests",
        dependencies: ["TestSupport", "Contracts", "Messaging", "Persistence", "OutboundHTTP"],
        path: "Tests/FaultTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "EndToEndTests",
        dependencies: [
            "TestSupport", "Contracts", "Messaging", "Persistence", "OutboundHTTP", "ServiceRuntime", "KindredCLI",
            "SignedURLs", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "Tests/EndToEndTests", swiftSettings: swiftSettings),
]

/// Declares one service the same way for all six: a library with its logic, a thin
/// executable that runs it, and a test target that imports the library.
func service(
    _ folder: String, executable: String, dependencies: [Target.Dependency] = [],
    testDependencies: [Target.Dependency] = []
) -> [Target] {
    let library = "\(folder)Service"
    return [
        .target(
            name: library,
            dependencies: ["Contracts", "Messaging", "Persistence", "ServiceRuntime", logging]
                + dependencies,
            path: "Services/\(folder)/\(library)",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: executable, dependencies: [.byName(name: library), "ServiceRuntime", "Contracts"],
            path: "Services/\(folder)/\(executable)", swiftSettings: swiftSettings),
        .testTarget(
            name: "\(library)Tests",
            dependencies: [.byName(name: library), "TestSupport"] + testDependencies,
            path: "Tests/\(library)Tests", swiftSettings: swiftSettings),
    ]
}

let services = [
    ("Gateway", "gateway"), ("Profile", "profile"), ("Matching", "matching"),
    ("Notification", "notification"), ("Payment", "payment"), ("Media", "media"),
]

targets += service(
    "Gateway", executable: "gateway",
    dependencies: [
        "SignedURLs", hummingbird, .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
        .product(name: "Crypto", package: "swift-crypto"),
    ],
    testDependencies: [hummingbird, "ServiceRuntime", "SignedURLs"])
targets += service(
    "Media", executable: "media",
    dependencies: [
        "CTurboJPEG", "CSpng", "CWebP", "OutboundHTTP", "SignedURLs", hummingbird,
        .product(name: "Crypto", package: "swift-crypto"),
    ],
    testDependencies: ["CWebP", "SignedURLs", hummingbird])
for (folder, executable) in services.dropFirst() where folder != "Media" {
    targets += service(folder, executable: executable)
}

let package = Package(
    name: "kindred",
    platforms: [.macOS(.v15)],
    products: services.map { .executable(name: $0.1, targets: [$0.1]) } + [
        .executable(name: "kindred", targets: ["kindred"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: targets
)
