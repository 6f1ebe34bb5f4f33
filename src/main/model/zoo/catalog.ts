/**
 * @file The official Ultralytics detection weights boxtune offers to download: YOLOv8 and YOLO11,
 * scales n/s/m, COCO-pretrained (80 classes). URLs are Ultralytics' own: 8.3's
 * ultralytics/utils/downloads.py lists `yolov8{n,s,m,l,x}.pt` and `yolo11{n,s,m,l,x}.pt` in
 * GITHUB_ASSETS_NAMES and attempt_download_asset() fetches them from the `v8.3.0` release of
 * github.com/ultralytics/assets (that release carries the YOLOv8 weights too).
 *
 * Parameter counts are those of each model's yaml (describeModel; Ultralytics' model summary prints
 * the same: YOLO11n 2,624,080, YOLOv8n 3,157,200). Ultralytics publishes no checksums and no byte
 * sizes for these files, so none are pinned here: `approxBytes` is an estimate for the UI (fp16
 * weights, 2 bytes per parameter, plus the pickle), and a download is checked by structure instead
 * (see zoo.ts).
 */

export type ZooFamily = 'yolov8' | 'yolo11';

export interface ZooEntry {
  /** e.g. 'yolo11n' */
  name: string;
  /** File name in the cache folder and on the release, e.g. 'yolo11n.pt'. */
  file: string;
  family: ZooFamily;
  /** Ultralytics scale letter of the yaml (n, s, m). */
  scale: string;
  /** Number of parameters of the architecture. */
  params: number;
  /** Classes of the pretrained head (COCO). */
  nc: number;
  url: string;
  /** Approximate size of the file, for the UI before the server says (Content-Length). */
  approxBytes: number;
}

/** The assets release Ultralytics 8.3 downloads weights from. */
export const ULTRALYTICS_ASSETS_RELEASE = 'v8.3.0';
/**
 * Where the files come from: Ultralytics' release, or BOXTUNE_MODEL_MIRROR (a folder URL holding
 * `yolo11n.pt` etc.) for sites that mirror them internally.
 */
const RELEASE_URL =
  process.env.BOXTUNE_MODEL_MIRROR?.replace(/\/+$/, '') || `https://github.com/ultralytics/assets/releases/download/${ULTRALYTICS_ASSETS_RELEASE}`;

/** fp16 weights plus the pickle and zip around them (yolo11n.pt: 2.62M parameters in about 5.4 MB). */
function approxBytes(params: number): number {
  return Math.round(2 * params + 0.3e6);
}

function entry(family: ZooFamily, scale: string, params: number): ZooEntry {
  const name = `${family}${scale}`;
  return { name, file: `${name}.pt`, family, scale, params, nc: 80, url: `${RELEASE_URL}/${name}.pt`, approxBytes: approxBytes(params) };
}

/** The downloadable models, smallest first within each family. */
export const ZOO: readonly ZooEntry[] = [
  entry('yolo11', 'n', 2_624_080),
  entry('yolo11', 's', 9_458_752),
  entry('yolo11', 'm', 20_114_688),
  entry('yolov8', 'n', 3_157_200),
  entry('yolov8', 's', 11_166_560),
  entry('yolov8', 'm', 25_902_640),
];

/**
 * Sizes a real checkpoint of `params` parameters can have: at least its fp16 weights, at most fp32
 * weights plus a generous allowance for the pickle (train args, optimizer left out), so a truncated
 * file, an HTML error page or the wrong model is caught before it is parsed.
 */
export function plausibleBytes(params: number): { min: number; max: number } {
  return { min: 2 * params, max: 4 * params + 8e6 };
}
