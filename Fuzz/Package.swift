// swift-tools-version: 6.0
//
// libFuzzer targets for SecureStreams (Fuzz/README.md), a package of its own
// so that `-sanitize=fuzzer,address` never reaches the main build. Build one
// with:
//
//   swift build -c release --product FuzzFrames \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//
// or all of them, and run them, with `make fuzz` at the top level.
//
// FuzzHarness holds what each target does with one input. Its files are also
// compiled into the main package's tests (through symlinks in
// Tests/SecureStreamsCoreTests/FuzzHarness/, with `@testable import`), where
// FuzzCrasherTests replays every saved crasher and seed through them; the
// scenario-file harness (FuzzScenario.swift) is linked into
// Tests/SimulationTests/FuzzHarness/ instead and replayed there.
// FuzzDriver holds the libFuzzer entry point glue.
import PackageDescription

let targets = [
    "FuzzPacketHeader", "FuzzFrames", "FuzzInitiation", "FuzzResponse",
    "FuzzEndpointOps", "FuzzReassembly", "FuzzKeyParsers", "FuzzScenario",
]

let package = Package(
    name: "SecureStreamsFuzz",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(name: "SecureStreams", path: "..")],
    targets: [
        .target(
            name: "FuzzHarness",
            dependencies: [
                .product(name: "SecureStreamsCore", package: "SecureStreams"),
                .product(name: "SecureStreamsSimulator", package: "SecureStreams"),
            ],
            swiftSettings: [.define("FUZZ_PACKAGE")]
        ),
        .target(name: "FuzzDriver"),
    ] + targets.map {
        .executableTarget(
            name: $0,
            dependencies: ["FuzzHarness", "FuzzDriver"]
        )
    },
    swiftLanguageModes: [.v6]
)
