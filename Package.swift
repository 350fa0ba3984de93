// swift-tools-version: 6.0
//
// SecureStreams: structured secure streams over UDP.
//
// Dependency direction: sss → SecureStreamsDispatch / SecureStreamsLibUV →
// SecureStreams → SecureStreamsCore → CSodium.
// The core is sans-IO: it imports neither Foundation nor any driver.
// Fuzz targets and benchmarks are separate packages (Fuzz/, Benchmarks/)
// depending on this one by path, so their flags never reach this build.
import PackageDescription

let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "SecureStreams",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SecureStreamsCore", targets: ["SecureStreamsCore"]),
        .library(name: "SecureStreams", targets: ["SecureStreams"]),
        .library(name: "SecureStreamsDispatch", targets: ["SecureStreamsDispatch"]),
        .library(name: "SecureStreamsLibUV", targets: ["SecureStreamsLibUV"]),
        .library(name: "SecureStreamsSimulator", targets: ["SecureStreamsSimulator"]),
        .executable(name: "sss", targets: ["sss"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .target(
            name: "SecureStreamsCore",
            dependencies: ["CSodium"],
            swiftSettings: strictness
        ),
        .target(
            name: "SecureStreams",
            dependencies: ["SecureStreamsCore"],
            swiftSettings: strictness
        ),
        .target(
            name: "SecureStreamsDispatch",
            dependencies: ["SecureStreams"],
            path: "Drivers/Dispatch",
            swiftSettings: strictness
        ),
        .target(
            name: "SecureStreamsLibUV",
            dependencies: ["SecureStreams", "CLibUV"],
            path: "Drivers/LibUV",
            swiftSettings: strictness
        ),
        .target(
            name: "SecureStreamsPollExample",
            dependencies: ["SecureStreams"],
            path: "Examples/PollDriver",
            swiftSettings: strictness
        ),
        // The README's API tour, compiled (and run by the tests) so it cannot drift.
        .executableTarget(
            name: "Tour",
            dependencies: ["SecureStreams", "SecureStreamsDispatch", "SecureStreamsLibUV"],
            path: "Examples/Tour",
            swiftSettings: strictness
        ),
        .target(
            name: "SecureStreamsSimulator",
            dependencies: ["SecureStreamsCore"],
            path: "Simulations/Simulator",
            swiftSettings: strictness
        ),
        .executableTarget(
            name: "sss",
            dependencies: [
                "SecureStreams",
                "SecureStreamsCore",
                "SecureStreamsSimulator",
                "SecureStreamsDispatch",
                "SecureStreamsLibUV",
                "SecureStreamsPollExample",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness
        ),
        // What several test targets share (the seeds of randomized tests).
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: strictness
        ),
        .testTarget(
            name: "SecureStreamsCoreTests",
            dependencies: ["SecureStreamsCore", "TestSupport"],
            exclude: ["Vectors"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "SecureStreamsTests",
            dependencies: ["SecureStreams", "SecureStreamsCore"],
            exclude: ["Fixtures"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "DriverTests",
            dependencies: [
                "SecureStreams", "SecureStreamsDispatch", "SecureStreamsLibUV", "SecureStreamsPollExample", "TestSupport",
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["SecureStreamsSimulator", "SecureStreamsCore"],
            swiftSettings: strictness
        ),
    ],
    swiftLanguageModes: [.v6]
)
