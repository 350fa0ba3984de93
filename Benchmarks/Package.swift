// swift-tools-version: 6.0
//
// SecureStreams benchmarks: the crypto layer against raw libsodium, and the
// sans-IO core end to end against the AEAD work it cannot avoid, measured in
// the same run and reported as ratios (see README.md). A separate package
// depending on the main one by path, so its targets and flags never reach
// the main build. Run with `make bench` or
// `cd Benchmarks && swift run -c release SecureStreamsBenchmarks`.
import PackageDescription

let package = Package(
    name: "SecureStreamsBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "SecureStreams", path: ".."),
    ],
    targets: [
        // The baseline's own view of libsodium: raw libsodium calls live only
        // in this package's baseline code, never in the main package's API.
        .systemLibrary(
            name: "CSodiumBaseline",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // Counts malloc-family calls (glibc only) for the allocations-per-op column.
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "SecureStreamsBenchmarks",
            dependencies: [
                .product(name: "SecureStreamsCore", package: "SecureStreams"),
                "CSodiumBaseline",
                "CMallocCounter",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
