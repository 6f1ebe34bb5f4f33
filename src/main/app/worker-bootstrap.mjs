// Loads the TypeScript worker entry through tsx when boxtune runs from source (tests, CLI,
// `npm run serve`). The Electron build bundles worker-entry to JavaScript and skips this file.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./worker-entry.ts', import.meta.url).href);
