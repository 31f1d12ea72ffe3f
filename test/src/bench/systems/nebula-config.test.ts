import assert from "node:assert/strict";
import { test } from "vitest";
import { nebulaConfig } from "./nebula-config.js";

const base = {
  caCert: "/tmp/x/ca.crt",
  cert: "/tmp/x/h2.crt",
  key: "/tmp/x/h2.key",
  dev: "bnb1h2",
  mtu: 1400,
  listenPort: 4242,
  lighthouseIp: "10.91.0.1",
  staticHosts: { "10.91.0.1": "172.31.250.1:4242", "10.91.0.2": "172.31.250.2:4242" },
};

test("a non-lighthouse host asks h1 and knows both underlay addresses", () => {
  const text = nebulaConfig({ ...base, lighthouse: false });
  assert.match(
    text,
    /^static_host_map:\n {2}"10\.91\.0\.1": \["172\.31\.250\.1:4242"\]\n {2}"10\.91\.0\.2": \["172\.31\.250\.2:4242"\]$/m,
  );
  assert.match(text, /am_lighthouse: false\n {2}hosts: \["10\.91\.0\.1"\]/);
  assert.match(text, /dev: "bnb1h2"\n {2}mtu: 1400/);
  assert.match(text, /punch: false/);
});

test("the lighthouse lists no lighthouses", () => {
  assert.match(nebulaConfig({ ...base, lighthouse: true }), /am_lighthouse: true\n {2}hosts: \[\]/);
});
