/**
 * @file `window.boxtune`, the preload's bridge (its type lives in src/shared/api.ts). The renderer's
 * tsconfig includes this file (types only), never the preload's code.
 */
import type { BoxtuneBridge } from '../shared/api';

export type { BoxtuneBridge };

declare global {
  interface Window {
    /** Present only inside the Electron window. */
    boxtune?: BoxtuneBridge;
  }
}
