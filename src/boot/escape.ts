const CTRL_A = 0x01;

/**
 * The keyboard filter of `democd boot`, QEMU's own convention for serial consoles: Ctrl-A
 * then X quits, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A then anything else sends both.
 * Every other key reaches the machine, Ctrl-] included, which is how a user leaves
 * `xl console` in domain 0. Stateful across chunks: the two keys arrive separately.
 */
export function escapeFilter(): (chunk: Buffer) => { forward: Buffer; quit: boolean } {
  let pending = false;
  return (chunk) => {
    const out: number[] = [];
    for (const byte of chunk) {
      if (pending) {
        pending = false;
        if (byte === 0x78 || byte === 0x58) return { forward: Buffer.from(out), quit: true };
        if (byte !== CTRL_A) out.push(CTRL_A);
        out.push(byte);
      } else if (byte === CTRL_A) pending = true;
      else out.push(byte);
    }
    return { forward: Buffer.from(out), quit: false };
  };
}
