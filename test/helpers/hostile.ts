import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { tempDir } from "./temp.ts";

/**
 * A fresh sandbox: `inside` is where unpacking may write, `outside` and the sandbox
 * itself (where a "../x" member would land) must never change; test inputs go in `work`.
 */
export function sandbox(): { base: string; inside: string; outside: string; work: string; snapshot: () => string[] } {
  const base = tempDir("hostile");
  const inside = path.join(base, "inside");
  const outside = path.join(base, "outside");
  const work = path.join(base, "work");
  fs.mkdirSync(outside);
  fs.mkdirSync(work);
  fs.writeFileSync(path.join(outside, "victim"), "untouched");
  const snapshot = () =>
    fs.readdirSync(outside, { recursive: true, withFileTypes: true }).map((e) => {
      const p = path.join(e.parentPath, e.name);
      const st = fs.lstatSync(p);
      return `${path.relative(outside, p)} ${st.mode.toString(8)} ${st.isFile() ? fs.readFileSync(p, "utf8") : ""}`;
    }).concat(fs.readdirSync(base).filter((n) => n !== "inside" && !n.startsWith("inside.")).map((n) => `base:${n}`)).sort();
  return { base, inside, outside, work, snapshot };
}

/**
 * A hostile tar made with Python's tarfile, which writes any member name it is given:
 * each spec is [type, name, target-or-content].
 */
export async function hostileTar(file: string, members: [type: "file" | "dir" | "symlink" | "hardlink" | "chardev" | "fifo" | "setuid", name: string, arg?: string][]): Promise<void> {
  const script = `
import io, sys, tarfile, json
members = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT) as t:
    for kind, name, arg in members:
        i = tarfile.TarInfo(name)
        i.mtime = 1700000000
        data = None
        if kind == "file":
            data = (arg or "x").encode(); i.size = len(data); i.mode = 0o644
        elif kind == "dir":
            i.type = tarfile.DIRTYPE; i.mode = 0o755
        elif kind == "symlink":
            i.type = tarfile.SYMTYPE; i.linkname = arg
        elif kind == "hardlink":
            i.type = tarfile.LNKTYPE; i.linkname = arg
        elif kind == "chardev":
            i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; i.mode = 0o666
        elif kind == "fifo":
            i.type = tarfile.FIFOTYPE; i.mode = 0o644
        elif kind == "setuid":
            data = (arg or "#!/bin/sh\\n").encode(); i.size = len(data); i.mode = 0o4755
        t.addfile(i, io.BytesIO(data) if data is not None else None)
`;
  await execa("python3", ["-c", script, file, JSON.stringify(members.map(([k, n, a]) => [k, n, a ?? null]))]);
}
