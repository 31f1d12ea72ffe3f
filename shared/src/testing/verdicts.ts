import assert from "node:assert/strict";
import type { IdentityErrorCode, IdentityResult } from "../errors.js";

/** The value of a verdict that must be a success; fails the test with the refusal otherwise. */
export function ok<T>(result: IdentityResult<T>): T {
  if (!result.ok) assert.fail(`${result.code}: ${result.message}`);
  return result.value;
}

/** Asserts a refusal with `code` (and a message matching `pattern`, when given). */
export function failsWith<T>(result: IdentityResult<T>, code: IdentityErrorCode, pattern?: RegExp): void {
  if (result.ok) assert.fail(`expected ${code}, got a value`);
  assert.equal(result.code, code, result.message);
  if (pattern) assert.match(result.message, pattern);
}
