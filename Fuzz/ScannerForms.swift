// libFuzzer target: the leak scanner's decoders. The first byte writes the rest as base64
// (standard or URL-safe) or UTF-16 (LE or BE, with a byte order mark), or leaves it plain;
// the scanner must then find exactly what its brute-force oracles find (whole keys, damaged
// keys repaired by trying every edit, base64 decoded from every position, UTF-16 decoded by Swift).
import IVKeysCore
import IVKeysTestSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = Array(UnsafeBufferPointer(start: data, count: size))
  if let problem = ScannerFormsCheck.problem(in: input) { preconditionFailure(problem) }
  return 0
}
