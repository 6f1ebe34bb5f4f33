/**
 * @file How much a model file may ask of boxtune before we call it hostile. Every model file a
 * user picks may be crafted, so its readers bound what it declares (class indices, sizes, nesting)
 * and the work it makes them do. Each limit sits far above what a real Ultralytics detection
 * checkpoint needs (yolo11n-coco.pt: 5.2 MiB, 80 classes, 395 modules nested 5 deep, 499 tensors,
 * 505 zip entries, a 110 KiB pickle; the larger scales repeat blocks more, but not tenfold).
 */

/** Class names (Ultralytics' `names`, our checkpoints' and exports' `names`) and `nc`. */
export const MAX_CLASSES = 10_000;

/** Repeats of one yaml row after the depth gain (Ultralytics' largest scales repeat a block 6 times). */
export const MAX_REPEATS = 100;

/** Largest .pt / .safetensors / .onnx boxtune reads (checked by stat before reading). */
export const MAX_MODEL_FILE_BYTES = 2 * 1024 ** 3;

/** Everything the entries of a torch zip inflate to, together. */
export const MAX_ZIP_INFLATED_BYTES = 2 * 1024 ** 3;

/**
 * How much more than its file a torch zip may inflate to (torch.save stores entries uncompressed;
 * a re-zipped checkpoint of fp16/fp32 weights compresses by a few percent), with a floor so small
 * files of zeros still open.
 */
export const MAX_ZIP_INFLATE_RATIO = 8;
export const MIN_ZIP_INFLATE_BUDGET = 64 * 1024 ** 2;

/** Entries of a torch zip (one per storage). */
export const MAX_ZIP_ENTRIES = 100_000;

/** nn.Modules the .pt reader walks, counting every path to a shared one. */
export const MAX_MODULES = 10_000;

/** Attributes, tensors and children the module walk looks at, all visits together. */
export const MAX_MODULE_WALK_STEPS = 500_000;

/** How deep nn.Modules may nest (Ultralytics' are 5 deep). */
export const MAX_MODULE_DEPTH = 64;

/** Values the pickled fields of one .pt (yaml, args, top-level entries) may convert to, together. */
export const MAX_PLAIN_VALUES = 100_000;

/**
 * Tensor bytes decoded, as a multiple of the storage bytes they come from: views may share a
 * storage, but a file that decodes one storage thousands of times is an amplification attack.
 */
export const MAX_TENSOR_DECODE_RATIO = 2;
