import path from "node:path";
import { DEMO_ROOT_PASSWORD } from "../../src/password.ts";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const TEST_BUILD_DIR = path.join(REPO, "build", "test");
export const TEST_ISO = path.join(TEST_BUILD_DIR, "democd-test.iso");
export const TEST_PASSWORD = "S3cret-test";
/** The default (debian) profile's ISO: its own build directory, the same package cache. */
export const TEST_DEBIAN_BUILD_DIR = path.join(TEST_BUILD_DIR, "debian");
export const TEST_DEBIAN_ISO = path.join(TEST_DEBIAN_BUILD_DIR, "democd-debian-test.iso");
/**
 * The debian ISO is built as a user gets it by default: without --root-password, so root's
 * password is the documented default (and sshd takes keys only), with this key pair's public
 * half given as --ssh-key (made afresh by each run; never committed).
 */
export const TEST_DEBIAN_PASSWORD = DEMO_ROOT_PASSWORD;
export const TEST_SSH_KEY = path.join(TEST_BUILD_DIR, "ssh", "id_ed25519");
