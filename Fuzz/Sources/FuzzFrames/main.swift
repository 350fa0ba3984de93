// libFuzzer target: see FuzzFrames in FuzzHarness for what one input does.
import FuzzDriver
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzFrames.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("FuzzFrames_main")
public func fuzzTargetMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    fuzzMain(argc, argv, seeds: FuzzFrames.seeds, callback: fuzzTestOneInput)
}
