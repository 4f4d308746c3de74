// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "vouch",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "vouch", targets: ["vouch"]),
    .library(name: "VouchKit", targets: ["VouchKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
  ],
  targets: [
    .systemLibrary(
      name: "CCurl",
      pkgConfig: "libcurl",
      providers: [.apt(["libcurl4-openssl-dev"])]
    ),
    .systemLibrary(
      name: "CLibXML2",
      pkgConfig: "libxml-2.0",
      providers: [.apt(["libxml2-dev"])]
    ),
    .systemLibrary(
      name: "COpenSSL",
      pkgConfig: "openssl",
      providers: [.apt(["libssl-dev"])]
    ),
    .systemLibrary(name: "CSystem"),
    .target(
      name: "CPseudonymMAC",
      dependencies: ["COpenSSL"]
    ),
    .target(
      name: "VouchKit",
      dependencies: [
        "CCurl",
        "CSystem",
        "CLibXML2",
        "COpenSSL",
        "CPseudonymMAC",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "Mustache", package: "swift-mustache"),
      ]
    ),
    .executableTarget(
      name: "vouch",
      dependencies: [
        "VouchKit",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "vouch-bench",
      dependencies: ["VouchKit", .product(name: "Logging", package: "swift-log")]
    ),
    .testTarget(
      name: "VouchKitTests",
      dependencies: ["VouchKit", "CCurl", "CLibXML2", .product(name: "Yams", package: "Yams")],
      exclude: ["Fixtures", "Support/validate_oscal.py"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
