{
  "targets": [
    {
      "target_name": "thespis",
      "sources": [
        "native/addon.cc",
        "native/framing.cc",
        "native/fdpass.cc",
        "native/fdwatch.cc",
        "native/fork.cc",
        "native/reap.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
