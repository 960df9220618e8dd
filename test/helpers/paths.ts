import path from "node:path";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const TEST_BUILD_DIR = path.join(REPO, "build", "test");
export const TEST_ISO = path.join(TEST_BUILD_DIR, "democd-test.iso");
export const TEST_PASSWORD = "S3cret-test";
/** The default (debian) profile's ISO: its own build directory, the same package cache. */
export const TEST_DEBIAN_BUILD_DIR = path.join(TEST_BUILD_DIR, "debian");
export const TEST_DEBIAN_ISO = path.join(TEST_DEBIAN_BUILD_DIR, "democd-debian-test.iso");
