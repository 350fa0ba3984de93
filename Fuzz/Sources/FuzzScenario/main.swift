// libFuzzer target: see FuzzScenario in FuzzHarness for what one input does.
import FuzzDriver
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzScenario.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("FuzzScenario_main")
public func fuzzTargetMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    fuzzMain(argc, argv, seeds: FuzzScenario.seeds, callback: fuzzTestOneInput)
}
