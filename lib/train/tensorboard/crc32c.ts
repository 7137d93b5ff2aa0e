// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord / tfevents files
// carry, and the "masked" form they store: a CRC of data that itself holds CRCs is easy to get
// wrong, so TensorFlow rotates it and adds a constant before writing.

const POLY_REFLECTED = 0x82f63b78;
const MASK_DELTA = 0xa282ead8;

/** One table byte-at-a-time; built once. */
const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `data` (check value: crc32c("123456789") = 0xE3069283). */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The masked CRC-32C a TFRecord stores: rotate right by 15 bits, add 0xA282EAD8 (mod 2³²). */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}
