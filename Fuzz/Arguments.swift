// libFuzzer target: the command-line parser. The input is split on NUL bytes into arguments.
@testable import IVKeysCLI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let args = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
  if let inv = try? Parser.parse(args), let spec = inv.spec {
    // Whatever parses names a real command and only its own or global options.
    for name in inv.values.keys {
      precondition(
        spec.option(named: name) != nil || globalOptions.contains { $0.name == name }, "stray option \(name.rawValue)")
    }
    _ = Help.command(inv.path)
  }
  return 0
}
