import fs from "node:fs";
import zlib from "node:zlib";
import { pipeline } from "node:stream/promises";
import { Parser, type ReadEntry } from "tar";
import type { EntryType } from "./cpio.ts";
import type { Member, SafeTree } from "./safe-tree.ts";

const TYPES: Record<string, EntryType | "hardlink"> = {
  File: "file", OldFile: "file", ContiguousFile: "file", Directory: "dir", SymbolicLink: "symlink",
  Link: "hardlink", CharacterDevice: "char", BlockDevice: "block", FIFO: "fifo",
};

/**
 * Unpack a (gzip'd) tar into a SafeTree. node-tar only parses (pax and GNU long names
 * included); every path decision is SafeTree's.
 */
export async function untarInto(file: string, tree: SafeTree): Promise<void> {
  const parser = new Parser({ strict: false });
  parser.on("entry", (entry: ReadEntry) => {
    const chunks: Buffer[] = [];
    entry.on("data", (c: Buffer) => chunks.push(c));
    entry.on("end", () => {
      const type = TYPES[entry.type];
      if (!type) {
        tree.refused.push(`${JSON.stringify(entry.path)}: unsupported tar entry type ${entry.type}`);
        return;
      }
      const m: Member = {
        name: entry.path,
        type,
        perm: (entry.mode ?? 0o644) & 0o7777,
        uid: entry.uid ?? 0,
        gid: entry.gid ?? 0,
        mtime: Math.floor((entry.mtime?.getTime() ?? 0) / 1000),
        data: type === "file" ? Buffer.concat(chunks) : undefined,
        link: entry.linkpath,
        rdevMajor: entry.header?.devmaj,
        rdevMinor: entry.header?.devmin,
      };
      tree.add(m);
    });
  });
  const head = Buffer.alloc(2);
  const fd = fs.openSync(file, "r");
  fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  if (gz) await pipeline(fs.createReadStream(file), zlib.createGunzip(), parser);
  else await pipeline(fs.createReadStream(file), parser);
  tree.finish();
}
