{
  "targets": [
    {
      "target_name": "hlfs",
      "sources": ["native/hlfs.c", "native/xxh64.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
