// swift-tools-version:6.1
import PackageDescription

/// The libFuzzer targets in `Fuzz/`, declared only when `IVKEYS_FUZZ` is set: `scripts/fuzz.sh`
/// builds them with `--sanitize=fuzzer --sanitize=address` into `.build-fuzz`. Each file defines
/// `LLVMFuzzerTestOneInput`, so it is compiled as a library (no top-level code, no `main`).
let fuzzTargets: [Target] =
  Context.environment["IVKEYS_FUZZ"] == nil
  ? []
  : ["Arguments", "IPRange", "KeyFormat", "Scanner", "ScannerForms", "TimeParsing"].map { name in
    .executableTarget(
      name: "fuzz-\(name)",
      dependencies: ["IVKeysCLI", "IVKeysCore", "IVKeysTestSupport"],
      path: "Fuzz",
      exclude: ["seeds", "regressions"],
      sources: ["\(name).swift"],
      swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    )
  }

let package = Package(
  name: "ivkeys",
  products: [
    .executable(name: "ivkeys", targets: ["ivkeys"]),
    .executable(name: "ivkeys-serve", targets: ["ivkeys-serve"]),
    .library(name: "IVKeysCore", targets: ["IVKeysCore"]),
  ],
  // Hummingbird 2 (SwiftNIO) for `ivkeys serve`, without its optional traits (full Foundation,
  // swift-configuration): the one Swift package the product takes. The other two are
  // Hummingbird's own dependencies, named so that the server's code may import their modules
  // (SwiftNIO's core and HTTP/1.1 codec, swift-log's Logger).
  dependencies: [
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.14.0"),
  ],
  targets: [
    // No pkgConfig for the two C libraries: SwiftPM would pass pkg-config's -L/usr/lib/<triplet>
    // ahead of everything, and the release build (Makefile, RELEASE_FLAGS) could no longer link
    // libsqlite3.a and libcrypto.a instead of the shared objects. The modulemaps' `link` lines
    // name the libraries; Debian's headers are in the default include path.
    .systemLibrary(
      name: "CSQLite",
      providers: [.apt(["libsqlite3-dev"])]
    ),
    .systemLibrary(
      name: "COpenSSL",
      providers: [.apt(["libssl-dev"])]
    ),
    // Linux calls Swift cannot make directly (prctl takes variable arguments); no library to link.
    .systemLibrary(name: "CLinux"),
    // libpq's header only: the library is loaded with dlopen when a PostgreSQL vault is named
    // (Storage/PostgreSQL/LibPQ.swift), never linked.
    .systemLibrary(
      name: "CLibPQ",
      providers: [.apt(["libpq-dev"])]
    ),
    .target(
      name: "IVKeysCore",
      dependencies: ["CSQLite", "COpenSSL", "CLibPQ"]
    ),
    // The command layer: table, parser, commands, rendering, completion scripts.
    .target(
      name: "IVKeysCLI",
      dependencies: ["IVKeysCore", "CLinux"]
    ),
    .executableTarget(
      name: "ivkeys",
      dependencies: ["IVKeysCLI"]
    ),
    // `ivkeys serve`'s HTTP side. A binary of its own, which `ivkeys serve` executes: linked into
    // `ivkeys`, SwiftNIO and Hummingbird would add their start-up work to every `verify` process
    // (ARCHITECTURE.md, "serve").
    .target(
      name: "IVKeysServe",
      dependencies: [
        "IVKeysCLI", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "ivkeys-serve",
      dependencies: ["IVKeysServe"]
    ),
    // Oracles for tests and fuzz targets; not part of any product.
    .target(
      name: "IVKeysTestSupport",
      dependencies: ["IVKeysCore"]
    ),
    .testTarget(
      name: "IVKeysCoreTests",
      dependencies: ["IVKeysCore", "IVKeysTestSupport"]
    ),
    .testTarget(
      name: "ivkeysTests",
      // The e2e suites run the built `ivkeys` binary found beside the test bundle.
      dependencies: ["ivkeys", "ivkeys-serve", "IVKeysCLI", "IVKeysCore", "IVKeysTestSupport"]
    ),
  ] + fuzzTargets
)
