// The riders' app icon, drawn here (no image tools needed): a white minibus on the brand blue, as an SVG
// and as PNGs of the sizes a web app manifest needs. The PNGs are encoded by hand (zlib from Node).
import { deflateSync } from 'node:zlib';

const BRAND = [0x1d, 0x5f, 0xa8];
const WHITE = [0xff, 0xff, 0xff];
const DARK = [0x15, 0x4a, 0x85];
const WHEEL = [0x22, 0x22, 0x22];

// Shapes on a 0..1 square, drawn in order: [kind, x0, y0, x1, y1, colour]; the bus stays within the
// central 60 %, so the icon is maskable (any crop to a circle keeps it whole).
const SHAPES = [
  ['rect', 0.22, 0.3, 0.78, 0.68, WHITE],
  ['rect', 0.27, 0.36, 0.41, 0.48, DARK],
  ['rect', 0.44, 0.36, 0.58, 0.48, DARK],
  ['rect', 0.61, 0.36, 0.73, 0.48, DARK],
  ['circle', 0.34, 0.68, 0.07, 0, WHEEL],
  ['circle', 0.66, 0.68, 0.07, 0, WHEEL],
];

/** The icon as SVG text. */
export function iconSvg() {
  const parts = SHAPES.map(([kind, a, b, c, d, colour]) => {
    const fill = `#${colour.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    return kind === 'rect'
      ? `<rect x="${a * 512}" y="${b * 512}" width="${(c - a) * 512}" height="${(d - b) * 512}" rx="12" fill="${fill}"/>`
      : `<circle cx="${a * 512}" cy="${b * 512}" r="${c * 512}" fill="${fill}"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" fill="#1d5fa8"/>${parts.join('')}</svg>\n`;
}

function colourAt(x, y) {
  let colour = BRAND;
  for (const [kind, a, b, c, d, fill] of SHAPES) {
    const inside = kind === 'rect' ? x >= a && x < c && y >= b && y < d : (x - a) ** 2 + (y - b) ** 2 <= c * c;
    if (inside) colour = fill;
  }
  return colour;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** The icon as a `size` × `size` RGB PNG. */
export function iconPng(size) {
  const rows = Buffer.alloc(size * (size * 3 + 1));
  for (let y = 0; y < size; y += 1) {
    const row = y * (size * 3 + 1);
    rows[row] = 0; // no filter
    for (let x = 0; x < size; x += 1) {
      const [r, g, b] = colourAt((x + 0.5) / size, (y + 0.5) / size);
      rows.set([r, g, b], row + 1 + x * 3);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
