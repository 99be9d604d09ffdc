{
  "targets": [
    {
      "target_name": "hlfs",
      "sources": ["native/hlfs.c", "native/scan.c", "native/walker.c", "native/xxh64.c", "native/copier.c", "native/namesums.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
