/** Helpers for tests of the server and of its clients in other packages. */

export { startTestRedis, type TestRedis } from "./redis-server.js";
export { makeTestServerCert, makeTestTlsCa, type TestTlsCa, type TestTlsPair } from "./tls-fixtures.js";
