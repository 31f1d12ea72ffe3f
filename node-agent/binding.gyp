{
  "targets": [
    {
      "target_name": "ipop_tun",
      "sources": ["native/tun.c", "native/vnet_split.c", "native/vnet_coalesce.c", "native/checksum.c", "native/tun_open.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
