// libFuzzer target: see FuzzEndpointOps in FuzzHarness for what one input does.
import FuzzDriver
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzEndpointOps.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("FuzzEndpointOps_main")
public func fuzzTargetMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    fuzzMain(argc, argv, seeds: FuzzEndpointOps.seeds, callback: fuzzTestOneInput)
}
