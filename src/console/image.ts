import { crc32, deflateSync } from "node:zlib";
import type { CameraImage } from "../camera/index.js";

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG of raw mono8 or rgb8 pixels: zlib and CRC from node:zlib, so no image library is needed. */
export function rawToPng(image: CameraImage): Buffer | undefined {
  const channels = image.format === "mono8" ? 1 : image.format === "rgb8" ? 3 : 0;
  const { width, height } = image;
  const stride = width * channels;
  if (channels === 0 || width < 1 || height < 1 || image.data.length < stride * height) return undefined;
  const rows = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++)
    Buffer.from(image.data.buffer, image.data.byteOffset + y * stride, stride).copy(
      rows,
      y * (stride + 1) + 1,
    );
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Images already made PNG: every page that shows a camera's last image asks for it. */
const made = new WeakMap<CameraImage, { type: string; data: Buffer } | undefined>();

/** The camera's last image as a browser shows it, or undefined when there is none it can show. */
export function imageFile(image: CameraImage | undefined): { type: string; data: Buffer } | undefined {
  if (!image) return undefined;
  if (made.has(image)) return made.get(image);
  const file = toFile(image);
  made.set(image, file);
  return file;
}

function toFile(image: CameraImage): { type: string; data: Buffer } | undefined {
  if (image.format === "jpeg") return { type: "image/jpeg", data: Buffer.from(image.data) };
  if (image.format === "png") return { type: "image/png", data: Buffer.from(image.data) };
  const png = rawToPng(image);
  return png && { type: "image/png", data: png };
}
