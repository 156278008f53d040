import { PNG } from "pngjs";
import type { CameraImage } from "../../camera/index.js";

/** PNG or JPEG bytes of a camera image: raw pixel formats are encoded as PNG, the others pass through. */
export function imageBytes(image: CameraImage): { bytes: Buffer; mime: "image/png" | "image/jpeg" } {
  if (image.format === "jpeg") return { bytes: Buffer.from(image.data), mime: "image/jpeg" };
  if (image.format === "png") return { bytes: Buffer.from(image.data), mime: "image/png" };
  const gray = image.format === "mono8";
  const expected = image.width * image.height * (gray ? 1 : 3);
  if (image.data.length !== expected)
    throw new RangeError(
      `${image.format} image of ${image.width}x${image.height} needs ${expected} bytes, has ${image.data.length}`,
    );
  const png = new PNG({
    width: image.width,
    height: image.height,
    colorType: gray ? 0 : 2,
    inputColorType: gray ? 0 : 2,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(image.data);
  return {
    bytes: PNG.sync.write(png, {
      colorType: gray ? 0 : 2,
      inputColorType: gray ? 0 : 2,
      inputHasAlpha: false,
    }),
    mime: "image/png",
  };
}
