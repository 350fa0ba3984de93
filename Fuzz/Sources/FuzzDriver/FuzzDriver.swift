// The glue between SwiftPM executables and libFuzzer (docs: Fuzz/README.md,
// "libFuzzer with SwiftPM"). SwiftPM renames an executable's entry point to
// `<Product>_main`, so libFuzzer's own `main` never runs: each target exports
// `<Product>_main` and calls `fuzzMain`, which hands over to
// `LLVMFuzzerRunDriver` — or, given `--make-corpus DIR`, writes the target's
// seed inputs into DIR and exits.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
) -> CInt

/// Runs libFuzzer with the process arguments, or writes seeds for `--make-corpus DIR`.
public func fuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    seeds: () -> [(name: String, bytes: [UInt8])],
    callback: FuzzCallback
) -> CInt {
    if argc >= 3, let argv, let flag = argv[1], String(cString: flag) == "--make-corpus", let dir = argv[2] {
        let directory = String(cString: dir)
        let all = seeds()
        for seed in all {
            let path = directory + "/" + seed.name
            guard let file = fopen(path, "wb") else {
                print("cannot write \(path)")
                return 1
            }
            _ = seed.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        print("wrote \(all.count) seeds to \(directory)")
        return 0
    }
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
