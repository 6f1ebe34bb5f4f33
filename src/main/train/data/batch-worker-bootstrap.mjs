// Loads the TypeScript loader worker through tsx when boxtune runs from source (tests, CLI,
// `npm run serve`). A build bundles batch-worker.ts to batch-worker.js and skips this file.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./batch-worker.ts', import.meta.url).href);
