import path from "node:path";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const TEST_BUILD_DIR = path.join(REPO, "build", "test");
export const TEST_ISO = path.join(TEST_BUILD_DIR, "democd-test.iso");
export const TEST_PASSWORD = "S3cret-test";
