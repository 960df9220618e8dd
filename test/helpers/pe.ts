/**
 * A minimal PE image with the given sections, for the SBAT reader's tests. Names longer than 8
 * bytes go to the COFF string table as "/N", as the linker writes them for shim's .sbatlevel.
 */
export function fakePe(sections: Record<string, Buffer | string>): Buffer {
  const entries = Object.entries(sections).map(([name, data]) => ({ name, data: Buffer.isBuffer(data) ? data : Buffer.from(data, "latin1") }));
  const peAt = 0x40;
  const tableAt = peAt + 24;
  let dataAt = tableAt + entries.length * 40;
  const strings: Buffer[] = [];
  let stringsSize = 4;
  const table = Buffer.alloc(entries.length * 40);
  const body: Buffer[] = [];
  entries.forEach((e, i) => {
    let name = e.name;
    if (name.length > 8) {
      const at = stringsSize;
      strings.push(Buffer.from(name + "\0", "latin1"));
      stringsSize += name.length + 1;
      name = `/${at}`;
    }
    table.write(name, i * 40, "latin1");
    table.writeUInt32LE(e.data.length, i * 40 + 8);
    table.writeUInt32LE(e.data.length, i * 40 + 16);
    table.writeUInt32LE(dataAt, i * 40 + 20);
    body.push(e.data);
    dataAt += e.data.length;
  });
  const head = Buffer.alloc(tableAt);
  head.write("MZ", 0, "latin1");
  head.writeUInt32LE(peAt, 0x3c);
  head.write("PE\0\0", peAt, "latin1");
  head.writeUInt16LE(0x8664, peAt + 4);
  head.writeUInt16LE(entries.length, peAt + 6);
  head.writeUInt32LE(dataAt, peAt + 12); // the symbol table (none) and the string table after it
  head.writeUInt32LE(0, peAt + 16);
  head.writeUInt16LE(0, peAt + 20);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(stringsSize);
  return Buffer.concat([head, table, ...body, size, ...strings]);
}

/** shim's .sbatlevel: version 0, then the offsets of the previous and latest policies (from after the version). */
export function sbatLevelSection(previous: string, latest: string): Buffer {
  const p = Buffer.from(previous + "\0", "latin1");
  const l = Buffer.from(latest + "\0", "latin1");
  const head = Buffer.alloc(12);
  head.writeUInt32LE(0, 0);
  head.writeUInt32LE(8, 4);
  head.writeUInt32LE(8 + p.length, 8);
  return Buffer.concat([head, p, l]);
}
