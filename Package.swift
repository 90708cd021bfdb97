// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "ivkeys",
  products: [
    .executable(name: "ivkeys", targets: ["ivkeys"]),
    .library(name: "IVKeysCore", targets: ["IVKeysCore"]),
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
    .target(
      name: "IVKeysCore",
      dependencies: ["CSQLite", "COpenSSL"]
    ),
    .executableTarget(
      name: "ivkeys",
      dependencies: ["IVKeysCore"]
    ),
    .testTarget(
      name: "IVKeysCoreTests",
      dependencies: ["IVKeysCore"]
    ),
    .testTarget(
      name: "ivkeysTests",
      dependencies: ["ivkeys", "IVKeysCore"]
    ),
  ]
)
