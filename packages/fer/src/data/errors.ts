// The one error type of the data layer. The CLI turns it into a one-line message with an
// exit code; library callers switch on `code` instead of parsing messages.

export type DataErrorCode =
  /** A file or folder the caller named, or the format needs, does not exist. */
  | 'E_DATA_MISSING'
  /** manifest.json is not valid JSON, or a field has the wrong shape or disagrees with the files. */
  | 'E_DATA_MANIFEST'
  /** `<split>.u8` is not a whole number of 48x48 images. */
  | 'E_DATA_PIXEL_SIZE'
  /** `<split>.labels.u8` does not hold one label per image. */
  | 'E_DATA_LABEL_COUNT'
  /** A label is not an index into the classes. */
  | 'E_DATA_LABEL_RANGE'
  /** `<split>.names.txt` does not hold one line per image. */
  | 'E_DATA_NAME_COUNT'
  /** A file is shorter than manifest.json records. */
  | 'E_DATA_TRUNCATED'
  /** A split holds no images. */
  | 'E_DATA_EMPTY'
  /** A file's sha256 differs from manifest.json. */
  | 'E_DATA_CHECKSUM'
  /** A split or image name cannot be stored in the format (path characters, newlines). */
  | 'E_DATA_NAME'
  /** A class list is empty, repeats a class, or names a class the source does not have. */
  | 'E_DATA_CLASSES'
  /** An image-folder tree does not have the `<split>/<class>/<image>` layout. */
  | 'E_DATA_FOLDER'
  /** A FER2013 CSV has a bad header or a malformed row. */
  | 'E_DATA_CSV'
  /** The output folder already holds data and overwriting was not asked for. */
  | 'E_DATA_OUT_EXISTS';

export class DataError extends Error {
  constructor(
    readonly code: DataErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DataError';
  }
}
