// libFuzzer target: the leak scanner, plain and as a diff, with chunks as small as allowed so
// keys and lines fall across chunk boundaries.
import IVKeysCore
import IVKeysTestSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = Array(UnsafeBufferPointer(start: data, count: size))
  if let problem = ScannerCheck.problem(in: text) { preconditionFailure(problem) }
  return 0
}
