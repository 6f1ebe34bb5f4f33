// Loads the TypeScript inspect worker through tsx when boxtune runs from source (tests, CLI,
// `npm run serve`). A build bundles inspect-worker.ts to inspect-worker.js and skips this file.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./inspect-worker.ts', import.meta.url).href);
