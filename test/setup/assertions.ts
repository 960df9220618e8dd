import { beforeEach, expect } from "vitest";

/**
 * Every test asserts something on every run: a test that returns early, or whose only
 * checks sit behind a condition that did not hold, fails instead of passing silently.
 */
beforeEach(() => {
  expect.hasAssertions();
});
