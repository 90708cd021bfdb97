import Testing

@testable import IVKeysCore

/// A key built by hand in python3 (zlib.crc32 and a plain base62 encoder):
/// id `0123456789ABCDEFGHIJKLMNOPQRSTUV`, secret = bytes 1...32, env test.
private let goldenKey = "sk_test_0123456789ABCDEFGHIJKLMNOPQRSTUV_0Eoh211G4c8wtVWM00my5rsNSFlKgaWqQ4mb8gdEqno2VfRCR"
/// Another, with the largest id and the smallest secret: id 32 × `z`, secret 43 × `0`.
private let goldenKeyZeroSecret =
  "sk_live_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz_00000000000000000000000000000000000000000004JHkOO"

private let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

/// Base62 of a CRC, 6 digits, written in the test rather than taken from `Base62`.
private func referenceCheckDigits(_ body: String) -> String {
  var v = UInt64(referenceCRC32(body.utf8))
  var out = [Character]()
  for _ in 0..<6 {
    out.insert(digits[Int(v % 62)], at: 0)
    v /= 62
  }
  return String(out)
}

/// The whole key for a body, with check digits from the test's own CRC and base62.
private func withCheck(_ body: String) -> String { body + referenceCheckDigits(body) }

/// The error `APIKey.parse` gives, or nil when it accepts.
private func formatError(_ text: String) -> APIKey.FormatError? {
  if case .failure(let e) = APIKey.parse(text) { return e }
  return nil
}

/// `text` with the character at `offset` replaced.
private func replacing(_ text: String, at offset: Int, with c: Character) -> String {
  var chars = Array(text)
  chars[offset] = c
  return String(chars)
}

/// Chi-square statistic of counts against a uniform distribution.
private func chiSquare(_ counts: [Int]) -> Double {
  let total = Double(counts.reduce(0, +))
  let expected = total / Double(counts.count)
  return counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
}

// Offsets in the 90-character key.
private let idRange = 8..<40
private let secretRange = 41..<84
private let checkRange = 84..<90

@Suite("Key format")
struct KeyFormatTests {
  // MARK: - Generated keys

  @Test(
    "generated keys are 90 characters, start sk_live_/sk_test_ and parse back to the same id and env",
    arguments: KeyEnvironment.allCases)
  func generatedKeysParse(env: KeyEnvironment) throws {
    for _ in 0..<50 {
      let key = try APIKey.generate(env: env)
      #expect(key.string.utf8.count == 90)
      #expect(key.string.count == 90)
      #expect(key.string.hasPrefix("sk_\(env.rawValue)_"))
      #expect(key.env == env)
      #expect(key.id.utf8.count == 32)
      #expect(Base62.isBase62(key.id.utf8))
      let chars = Array(key.string)
      #expect(String(chars[idRange]) == key.id)
      #expect(chars[40] == "_")
      #expect(Base62.isBase62(String(chars[secretRange]).utf8))
      #expect(Base62.isBase62(String(chars[checkRange]).utf8))
      let parsed = try APIKey.parse(key.string).get()
      #expect(parsed.id == key.id)
      #expect(parsed.env == env)
      #expect(parsed.string == key.string)
    }
  }

  @Test("two generated keys differ in id and secret")
  func generatedKeysAreDistinct() throws {
    var random = RandomStream()
    var ids = Set<String>()
    var secrets = Set<String>()
    for _ in 0..<1000 {
      let key = try APIKey.generate(env: .live, random: &random)
      ids.insert(key.id)
      secrets.insert(String(Array(key.string)[secretRange]))
    }
    #expect(ids.count == 1000)
    #expect(secrets.count == 1000)
  }

  @Test("the check digits are CRC32 of everything before them, base62, 6 digits, computed independently")
  func checkDigitsMatchIndependentCRC() throws {
    var random = RandomStream()
    for env in KeyEnvironment.allCases {
      for _ in 0..<200 {
        let key = try APIKey.generate(env: env, random: &random)
        let chars = Array(key.string)
        let body = String(chars[0..<84])
        let check = String(chars[checkRange])
        #expect(check == referenceCheckDigits(body))
        #expect(check == Base62.encode(UInt64(referenceCRC32(body.utf8)), width: 6))
      }
    }
  }

  @Test("keys built outside the library parse")
  func goldenKeysParse() throws {
    let a = try APIKey.parse(goldenKey).get()
    #expect(a.env == .test)
    #expect(a.id == "0123456789ABCDEFGHIJKLMNOPQRSTUV")
    #expect(a.string == goldenKey)
    #expect(APIKey.checkDigits(String(goldenKey.prefix(84))) == "2VfRCR")

    let b = try APIKey.parse(goldenKeyZeroSecret).get()
    #expect(b.env == .live)
    #expect(b.id == String(repeating: "z", count: 32))
    #expect(withCheck(String(goldenKeyZeroSecret.prefix(84))) == goldenKeyZeroSecret)
  }

  @Test("masked form hides the secret")
  func masked() throws {
    let key = try APIKey.parse(goldenKey).get()
    #expect(key.masked == "sk_test_0123456789ABCDEFGHIJKLMNOPQRSTUV_…")
    #expect(!key.masked.contains("0Eoh211"))
  }

  // MARK: - Checksum

  @Test("one changed character in the secret fails the checksum")
  func changedSecretCharacter() throws {
    // A key whose secret starts below 'y', so no change to a later digit can reach 2^256.
    var key = try APIKey.generate(env: .live).string
    while Array(key)[secretRange.lowerBound] >= "y" { key = try APIKey.generate(env: .live).string }
    for offset in (secretRange.lowerBound + 1)..<secretRange.upperBound {
      let original = Array(key)[offset]
      let replacement: Character = original == "a" ? "b" : "a"
      #expect(formatError(replacing(key, at: offset, with: replacement)) == .badChecksum, "offset \(offset)")
    }
  }

  @Test("one changed character in the id or the check digits fails the checksum")
  func changedIdOrCheckCharacter() throws {
    for offset in Array(idRange) + Array(checkRange) {
      let original = Array(goldenKey)[offset]
      let replacement: Character = original == "Q" ? "R" : "Q"
      #expect(formatError(replacing(goldenKey, at: offset, with: replacement)) == .badChecksum, "offset \(offset)")
    }
  }

  @Test("the checksum covers the environment: a test key relabelled live is refused")
  func checksumCoversEnvironment() {
    let relabelled = "sk_live_" + goldenKey.dropFirst(8)
    #expect(relabelled.count == 90)
    #expect(formatError(relabelled) == .badChecksum)
  }

  @Test("two swapped adjacent secret characters fail the checksum")
  func transposedCharacters() {
    var chars = Array(goldenKey)
    let i = secretRange.lowerBound + 10
    #expect(chars[i] != chars[i + 1])
    chars.swapAt(i, i + 1)
    #expect(formatError(String(chars)) == .badChecksum)
  }

  // MARK: - Shape

  @Test("wrong lengths are refused with the length")
  func wrongLength() {
    #expect(formatError("") == .wrongLength(0))
    #expect(formatError(String(goldenKey.dropLast())) == .wrongLength(89))
    #expect(formatError(goldenKey + "0") == .wrongLength(91))
    #expect(formatError(goldenKey + "\n") == .wrongLength(91), "a trailing newline is not trimmed")
    #expect(formatError(" " + goldenKey) == .wrongLength(91))
  }

  @Test("a Stripe-shaped key (sk_live_ + 24 alphanumerics) is not an ivkeys key")
  func stripeShapedKey() {
    let alnum = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    let stripe = "sk_live_" + String((0..<24).map { _ in alnum.randomElement()! })
    #expect(stripe.count == 32)
    #expect(formatError(stripe) == .wrongLength(32))
    #expect(formatError(stripe + String(repeating: "a", count: 58)) != nil)
  }

  @Test(
    "prefixes other than sk_live_ and sk_test_ are refused",
    arguments: ["sk_prod_", "pk_live_", "sk-live_", "sk_live-", "SK_LIVE_", "sk_Live_", "sk_tset_", "rk_test_"])
  func badPrefix(prefix: String) {
    // Same id, secret and a check digest valid for the changed body: only the prefix is wrong.
    let key = withCheck(prefix + goldenKey.dropFirst(8).prefix(76))
    #expect(key.count == 90)
    #expect(formatError(key) == .badPrefix)
  }

  @Test("non-base62 characters in id, separator, secret or check are refused")
  func badCharacters() {
    #expect(formatError(replacing(goldenKey, at: 8, with: "-")) == .badCharacter)
    #expect(formatError(replacing(goldenKey, at: 39, with: "_")) == .badCharacter)
    #expect(formatError(replacing(goldenKey, at: 40, with: "-")) == .badCharacter)
    #expect(formatError(replacing(goldenKey, at: 40, with: "a")) == .badCharacter)
    #expect(formatError(replacing(goldenKey, at: 50, with: "+")) == .badCharacter)
    #expect(formatError(replacing(goldenKey, at: 50, with: "/")) == .badCharacter)
    #expect(formatError(replacing(goldenKey, at: 86, with: "=")) == .badCharacter)
    #expect(formatError(replacing(goldenKey, at: 89, with: " ")) == .badCharacter)
  }

  @Test("a secret of 2^256 or more is out of range even with a valid checksum")
  func secretOutOfRange() {
    let id = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
    let allZ = withCheck("sk_live_\(id)_" + String(repeating: "z", count: 43))
    #expect(allZ.count == 90)
    #expect(formatError(allZ) == .secretOutOfRange)

    let twoPow256 = withCheck("sk_live_\(id)_" + base62TwoPow256)
    #expect(formatError(twoPow256) == .secretOutOfRange)

    // The largest 256-bit value is accepted.
    let max = withCheck("sk_live_\(id)_" + base62MaxUInt256)
    #expect(formatError(max) == nil)
  }

  @Test("parse(bytes:) accepts what parse(_:) accepts")
  func parseBytes() throws {
    let bytes = Array(goldenKey.utf8)
    let key = try bytes.withUnsafeBufferPointer { APIKey.parse(bytes: $0) }.get()
    #expect(key.id == "0123456789ABCDEFGHIJKLMNOPQRSTUV")
    #expect(key.string == goldenKey)
  }

  // MARK: - Randomness

  @Test("id digits are uniform over the 62-digit alphabet (chi-square)")
  func idDigitsAreUniform() throws {
    var counts = [Int](repeating: 0, count: 62)
    var random = RandomStream()
    for _ in 0..<3000 {
      let key = try APIKey.generate(env: .test, random: &random)
      for c in key.id.utf8 { counts[try #require(Base62.value(of: c))] += 1 }
    }
    #expect(counts.allSatisfy { $0 > 0 }, "every digit appears")
    // 61 degrees of freedom: mean 61, sd ≈ 11; 130 is over six standard deviations out.
    // Reducing random bytes modulo 62 without rejection gives a statistic in the hundreds.
    let chi = chiSquare(counts)
    #expect(chi < 130, "chi-square \(chi), counts \(counts)")
  }

  @Test("Base62.randomDigits is uniform (chi-square)")
  func randomDigitsAreUniform() throws {
    var random = RandomStream()
    let s = try Base62.randomDigits(100_000, from: &random)
    var counts = [Int](repeating: 0, count: 62)
    for c in s.utf8 { counts[try #require(Base62.value(of: c))] += 1 }
    #expect(counts.allSatisfy { $0 > 0 })
    let chi = chiSquare(counts)
    #expect(chi < 130, "chi-square \(chi)")
  }

  @Test("the secret's 42 trailing digits cover the alphabet; its first digit is at most 'y'")
  func secretDigitsCoverAlphabet() throws {
    var counts = [Int](repeating: 0, count: 62)
    var firstDigitMax = 0
    var random = RandomStream()
    for _ in 0..<3000 {
      let key = try APIKey.generate(env: .live, random: &random)
      let secret = Array(key.string.utf8)[secretRange]
      firstDigitMax = max(firstDigitMax, try #require(Base62.value(of: secret.first!)))
      for c in secret.dropFirst() { counts[try #require(Base62.value(of: c))] += 1 }
    }
    #expect(counts.allSatisfy { $0 > 0 }, "every digit appears: \(counts)")
    let chi = chiSquare(counts)
    #expect(chi < 130, "chi-square \(chi)")
    // 2^256 - 1 starts with 'y' (value 60) in 43 digits.
    #expect(firstDigitMax <= 60)
  }
}
