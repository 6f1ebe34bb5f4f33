/**
 * @file The in-memory form datasets pass through between a format's files and the store.
 * Readers produce a `ParsedDataset` (paths absolute, boxes as the format gives them); the import
 * pipeline probes the images, converts boxes to pixels and hands an `ImportPlan` to the store.
 * Writers consume an `ExportDataset` read from the store.
 */
import type { Problem } from '../../shared/errors';
import type { Attrs, Split } from '../../shared/types';

export interface ParsedBox {
  /** Index into `ParsedDataset.classes`. */
  classIndex: number;
  /** Top-left x, y and size; normalised to 0..1 of the image when `normalized`, else pixels. */
  x: number;
  y: number;
  w: number;
  h: number;
  normalized: boolean;
  attrs?: Attrs;
}

export interface ParsedImage {
  /** Absolute path of the image file. */
  absPath: string;
  split: Split;
  /** True when the source says the image was labeled (YOLO: label file exists, even empty). */
  labeled: boolean;
  boxes: ParsedBox[];
  /** Size the annotation file declares (COCO, VOC); checked against the file itself. */
  declaredSize?: { width: number; height: number };
  attrs?: Attrs;
}

export interface ParsedDataset {
  /** Class names in id order (YOLO id i = classes[i]). */
  classes: string[];
  images: ParsedImage[];
  /** Malformed input. Any problem aborts the import: the store stays unchanged. */
  problems: Problem[];
  warnings: string[];
}

/** What the store inserts: one transaction, all or nothing. */
export interface ImportPlan {
  classes: string[];
  images: PlannedImage[];
}

export interface PlannedImage {
  /** Relative to the project root, '/' separators. */
  path: string;
  hash: string;
  width: number;
  height: number;
  split: Split;
  labeled: boolean;
  attrs?: Attrs;
  /** Pixel boxes; classIndex indexes ImportPlan.classes. */
  boxes: { classIndex: number; x: number; y: number; w: number; h: number; attrs?: Attrs }[];
}

/** One image with its boxes, read from the store for a writer. */
export interface ExportImage {
  /** Absolute path of the image file. */
  absPath: string;
  /** Relative path in the project (used to build unique output names). */
  relPath: string;
  width: number;
  height: number;
  split: Split;
  labeled: boolean;
  attrs?: Attrs;
  /** Pixel boxes; classIndex is the class's rank in `ExportDataset.classes`. */
  boxes: { classIndex: number; x: number; y: number; w: number; h: number; attrs?: Attrs }[];
}

export interface ExportDataset {
  classes: string[];
  images: ExportImage[];
}

/** Progress callback shared by readers and writers: items done of total in a named phase. */
export type ProgressFn = (phase: string, done: number, total: number) => void;

/** Checked between items; throw JOB_CANCELLED when it returns true. */
export type CancelFn = () => boolean;
