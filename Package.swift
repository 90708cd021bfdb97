// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "ivkeys",
  products: [
    .executable(name: "ivkeys", targets: ["ivkeys"]),
    .library(name: "IVKeysCore", targets: ["IVKeysCore"]),
  ],
  targets: [
    .systemLibrary(
      name: "CSQLite",
      pkgConfig: "sqlite3",
      providers: [.apt(["libsqlite3-dev"])]
    ),
    .systemLibrary(
      name: "COpenSSL",
      pkgConfig: "libcrypto",
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
