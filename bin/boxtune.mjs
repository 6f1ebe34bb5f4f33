#!/usr/bin/env node
// The boxtune CLI. Runs the TypeScript sources through tsx, so it works right after `npm install`.
import { register } from 'tsx/esm/api';

// `boxtune info | head`: the reader went away, which is not an error. Stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

register();
const { main } = await import(new URL('../src/main/cli.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
