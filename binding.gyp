{
  "targets": [
    {
      "target_name": "hlfs",
      "sources": ["native/hlfs.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
