{
  "targets": [
    {
      "target_name": "ipop_tun",
      "sources": ["native/tun.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
