// The image formats the stream server accepts (JPEG, WebP), told apart by their magic bytes,
// which is how the server tells them apart too.

export type CropFormat = 'image/jpeg' | 'image/webp';

export function sniffImage(bytes: Uint8Array): CropFormat | 'image/png' | 'unknown' {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (
    bytes.length >= 12 &&
    String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' &&
    String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP'
  ) {
    return 'image/webp';
  }
  if (bytes.length >= 8 && bytes[0] === 0x89 && String.fromCharCode(...bytes.subarray(1, 4)) === 'PNG')
    return 'image/png';
  return 'unknown';
}
