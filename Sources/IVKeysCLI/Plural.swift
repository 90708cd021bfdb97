/// A count and its noun, singular or plural: `1 bad line`, `2 bad lines`, `0 keys`.
/// `words` is the plural when it is not the noun with an `s` (`1 audit entry`, `2 audit entries`).
func plural(_ n: some BinaryInteger, _ word: String, _ words: String? = nil) -> String {
  n == 1 ? "1 \(word)" : "\(n) \(words ?? word + "s")"
}
