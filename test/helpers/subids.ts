import fs from "node:fs";
import { onTestFinished } from "vitest";

// usermod keeps a copy of each file it changes as FILE-.
const FILES = ["/etc/subuid", "/etc/subgid", "/etc/subuid-", "/etc/subgid-"] as const;

/**
 * For the length of one test (root only): take the user's subordinate id ranges out of
 * /etc/subuid and /etc/subgid, and afterwards put both files (and usermod's FILE- copies) back
 * byte for byte as they were (a file that was absent is removed again). Whatever the test adds,
 * usermod included, goes too.
 */
export function withoutSubids(user: string): void {
  const saved = FILES.map((file) => ({ file, text: fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined, mode: fs.existsSync(file) ? fs.statSync(file).mode & 0o7777 : 0o644 }));
  onTestFinished(() => {
    for (const s of saved) {
      if (s.text === undefined) fs.rmSync(s.file, { force: true });
      else {
        fs.writeFileSync(s.file, s.text);
        fs.chmodSync(s.file, s.mode);
      }
    }
  });
  for (const s of saved.slice(0, 2)) {
    if (s.text === undefined) continue;
    fs.writeFileSync(s.file, s.text.split("\n").filter((l) => l.split(":")[0] !== user).join("\n"));
  }
}
