{
  "targets": [
    {
      "target_name": "mremap_lab",
      "sources": [
        "native/addon.cc",
        "native/syscalls.cc",
        "native/memory.cc",
        "native/process.cc",
        "native/procfs.cc",
        "native/timing.cc",
        "native/holes.cc",
        "native/load.cc",
        "native/uffd_events.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=c++17"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
