// Runs a TypeScript worker entry through tsx when boxtune runs from source; the entry's URL is the
// last argv (util/worker-script.ts). A build bundles each entry to JavaScript and skips this file.
import { register } from 'tsx/esm/api';

register();
await import(process.argv.at(-1));
