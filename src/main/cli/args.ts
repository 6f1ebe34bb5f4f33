/**
 * @file Command-line arguments in both styles people bring: Ultralytics' `key=value`
 * (`boxtune train model=yolo11n.pt epochs=20`) and the usual `--key value` / `--flag`.
 */

export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  options: Map<string, string>;
}

/**
 * Bare words in `flags` are switches, as in Ultralytics' `yolo train resume`.
 * @example parseArgs(['import', 'data.yaml', 'project=./p', 'copy'], ['copy']) // => command 'import',
 *   positional ['data.yaml'], options { project: './p', copy: 'true' }
 */
export function parseArgs(argv: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const [command, ...rest] = argv;
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      if (eq >= 0) options.set(normalizeKey(body.slice(0, eq)), body.slice(eq + 1));
      else if (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--') && !isKeyValue(rest[i + 1]!)) {
        options.set(normalizeKey(body), rest[++i]!);
      } else options.set(normalizeKey(body), 'true');
    } else if (isKeyValue(arg)) {
      const eq = arg.indexOf('=');
      options.set(normalizeKey(arg.slice(0, eq)), arg.slice(eq + 1));
    } else if (flags.includes(arg.toLowerCase())) options.set(arg.toLowerCase(), 'true');
    else positional.push(arg);
  }
  return { command, positional, options };
}

/** `key=value` where key is a plain identifier (so a path with '=' in it stays positional). */
function isKeyValue(arg: string): boolean {
  return /^[A-Za-z][\w-]*=/.test(arg);
}

function normalizeKey(key: string): string {
  return key.replace(/-/g, '_').toLowerCase();
}

export function boolOption(value: string | undefined): boolean {
  return value !== undefined && !['false', '0', 'no', 'off'].includes(value.toLowerCase());
}
