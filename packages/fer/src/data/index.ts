// Public API of the fer data layer: the fer4 format, its reader and writer, importers,
// and the duplicate/leakage analysis training and evaluation rely on.
export { DataError, type DataErrorCode } from './errors.ts';
export {
  DEFAULT_CLASSES,
  IMAGE_BYTES,
  IMAGE_SIDE,
  STANDARD_SPLITS,
  classCounts,
  getSplit,
  image,
  splitFiles,
  type FerDataset,
  type FerSplit,
  type SplitFiles,
} from './format.ts';
export {
  MANIFEST_FILE,
  readManifest,
  type FerManifest,
  type ManifestFileEntry,
  type ManifestSource,
  type ManifestSplitEntry,
  type ManifestView,
} from './manifest.ts';
export {
  assertChecksums,
  listSplits,
  readClasses,
  readDataset,
  readSplit,
  sha256File,
  verifyChecksums,
  type FileCheck,
} from './reader.ts';
export { writeDataset, type DatasetToWrite, type SplitData, type WriteOptions } from './writer.ts';
export { SplitBuilder } from './split-builder.ts';
export {
  BLANK_STD_THRESHOLD,
  blankIndices,
  cleanIndices,
  cleanTrainIndices,
  findDuplicateGroups,
  hasConflictingLabels,
  hashImage,
  hashImages,
  indicesAlsoIn,
  isBlank,
  spansSplits,
  type DuplicateGroup,
  type ImageRef,
} from './duplicates.ts';
export { computeStats, type DataStats, type Leakage, type SplitStats } from './stats.ts';
export { FER2013_CLASSES, canonicalOrder, parseClassSelection, type ClassSelection } from './classes.ts';
export { BT601, areaResize, toGray48 } from './gray48.ts';
export type { ImportProgress, ImportSummary, OnProgress, SkippedFile } from './importing.ts';
export { IMAGE_EXTENSIONS, importFolder, type FolderImportOptions } from './import-folder.ts';
export { SPLIT_WITHOUT_USAGE, USAGE_SPLITS, importFer2013Csv, type CsvImportOptions } from './import-csv.ts';
