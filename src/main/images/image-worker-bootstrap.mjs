// Loads the TypeScript image worker through tsx when boxtune runs from source (tests, CLI,
// `npm run serve`). A build bundles image-worker.ts to image-worker.js and skips this file.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./image-worker.ts', import.meta.url).href);
