const fail = (why: string): never => {
  throw new Error(`not a PE image: ${why}`);
};

/** Where the COFF header (after "PE\0\0") and the section table start. */
function headers(image: Buffer): { pe: number; table: number; count: number } {
  if (image.length < 0x40 || image.toString("latin1", 0, 2) !== "MZ") fail("no MZ header");
  const pe = image.readUInt32LE(0x3c);
  if (pe + 24 > image.length || image.toString("latin1", pe, pe + 4) !== "PE\0\0") fail("no PE signature");
  return { pe, table: pe + 24 + image.readUInt16LE(pe + 20), count: image.readUInt16LE(pe + 6) };
}

/** The first virtual address past a PE32+ image (ImageBase + SizeOfImage): where a section can be added. */
export function imageEnd(image: Buffer): bigint {
  const { pe } = headers(image);
  if (image.readUInt16LE(pe + 24) !== 0x20b) fail("not PE32+ (64-bit)");
  return image.readBigUInt64LE(pe + 24 + 24) + BigInt(image.readUInt32LE(pe + 24 + 56));
}

const DISCARDABLE = 0x02000000;

/**
 * A copy of the image whose section `name` is no longer marked discardable. Xen's EFI loader
 * reads its own .reloc section after loading; the firmware copies discardable sections into
 * memory, shim's loader does not, and Xen then fails with "Unsupported relocation type"
 * (rhboot/shim#97). objcopy cannot do it: binutils marks every .reloc discardable.
 */
export function keepSection(image: Buffer, name: string): Buffer {
  const { table, count } = headers(image);
  const out = Buffer.from(image);
  for (let i = 0; i < count; i++) {
    const at = table + i * 40;
    if (out.toString("latin1", at, at + 8).replace(/\0+$/, "") !== name) continue;
    out.writeUInt32LE((out.readUInt32LE(at + 36) & ~DISCARDABLE) >>> 0, at + 36);
    return out;
  }
  return fail(`no ${name} section`);
}

/** Whether the image's section `name` is marked discardable. */
export function isDiscardable(image: Buffer, name: string): boolean {
  const { table, count } = headers(image);
  for (let i = 0; i < count; i++) {
    const at = table + i * 40;
    if (image.toString("latin1", at, at + 8).replace(/\0+$/, "") === name) return (image.readUInt32LE(at + 36) & DISCARDABLE) !== 0;
  }
  return fail(`no ${name} section`);
}

/**
 * A PE/COFF image's named sections. Hand-read because npm's PE reader (pe-library 2.0.1)
 * refuses binaries that carry COFF symbols, as Debian's shim does; the section table is all
 * democd needs (the .sbat and .sbatlevel sections).
 */
export function peSections(image: Buffer): Map<string, Buffer> {
  const { pe, table, count } = headers(image);
  // Names longer than 8 bytes (".sbatlevel") are "/N": offset N into the COFF string table.
  const strings = image.readUInt32LE(pe + 12) + image.readUInt32LE(pe + 16) * 18;
  const longName = (n: string) => {
    if (!/^\/\d+$/.test(n)) return n;
    const at = strings + Number(n.slice(1));
    if (at >= image.length) fail(`section name ${n} past the end`);
    return image.toString("latin1", at, image.indexOf(0, at));
  };
  const sections = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const at = table + i * 40;
    if (at + 40 > image.length) fail("section table past the end");
    const name = longName(image.toString("latin1", at, at + 8).replace(/\0+$/, ""));
    const virtualSize = image.readUInt32LE(at + 8);
    const rawSize = image.readUInt32LE(at + 16);
    const rawAt = image.readUInt32LE(at + 20);
    if (rawAt + rawSize > image.length) fail(`section ${name} past the end`);
    // The raw data is padded to the file alignment; the section's own size is the smaller one.
    sections.set(name, image.subarray(rawAt, rawAt + Math.min(rawSize, virtualSize || rawSize)));
  }
  return sections;
}
