#!/usr/bin/env node
// The boxtune CLI. Runs the TypeScript sources through tsx, so it works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../src/main/cli.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
