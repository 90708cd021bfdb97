// libFuzzer target: strict IPv4/IPv6 address and CIDR parsing.
import IVKeysCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  if let range = try? IPRange.parse(text) {
    // The canonical text parses back to the same range, which contains its own address.
    guard let again = try? IPRange.parse(range.description), again == range else {
      preconditionFailure("canonical form does not parse back: \(range)")
    }
    precondition(range.contains(range.address))
  }
  return 0
}
