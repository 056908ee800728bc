{
  # The install fallback (node-gyp): compiles the same sources as CMakeLists.txt, listed once in
  # native/sources.json.
  "targets": [
    {
      "target_name": "durabook",
      "sources": [
        "<!@(node -p \"require('./native/sources.json').core.concat(require('./native/sources.json').addon).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-O2", "-O3"],
      "cflags_cc!": ["-std=gnu++17", "-std=c++17", "-O2"],
      "cflags_cc": ["-std=c++20", "-O3", "-fno-semantic-interposition", "-fvisibility=hidden", "-fvisibility-inlines-hidden"],
      "cflags": ["-O3"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
        "GCC_OPTIMIZATION_LEVEL": "3"
      }
    }
  ]
}
