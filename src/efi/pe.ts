/**
 * A PE/COFF image's named sections. Hand-read because npm's PE reader (pe-library 2.0.1)
 * refuses binaries that carry COFF symbols, as Debian's shim does; the section table is all
 * democd needs (the .sbat and .sbatlevel sections).
 */
export function peSections(image: Buffer): Map<string, Buffer> {
  const fail = (why: string): never => {
    throw new Error(`not a PE image: ${why}`);
  };
  if (image.length < 0x40 || image.toString("latin1", 0, 2) !== "MZ") fail("no MZ header");
  const pe = image.readUInt32LE(0x3c);
  if (pe + 24 > image.length || image.toString("latin1", pe, pe + 4) !== "PE\0\0") fail("no PE signature");
  const count = image.readUInt16LE(pe + 6);
  const optionalSize = image.readUInt16LE(pe + 20);
  const table = pe + 24 + optionalSize;
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
