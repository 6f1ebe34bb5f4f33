/**
 * @file Progress for the terminal: one line per phase, redrawn in place on a TTY
 * (`reading images  4200/8000  52%  1830/s  ETA 0:02`), or a line every few seconds in a log.
 */
import { formatDuration } from '../../shared/format';

export class TerminalProgress {
  private phase = '';
  private phaseStart = 0;
  private lastPrint = 0;
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY);
  }

  update = (phase: string, done: number, total: number): void => {
    const now = Date.now();
    if (phase !== this.phase) {
      if (this.phase && this.tty) this.out.write('\n');
      this.phase = phase;
      this.phaseStart = now;
      this.lastPrint = 0;
    }
    const finished = total > 0 && done >= total;
    if (!finished && now - this.lastPrint < (this.tty ? 100 : 5000)) return;
    this.lastPrint = now;
    const seconds = Math.max((now - this.phaseStart) / 1000, 1e-3);
    const rate = done / seconds;
    const pct = total > 0 ? `${Math.floor((100 * done) / total)}%` : '';
    const eta = rate > 0 && total > done ? `ETA ${formatDuration((total - done) / rate)}` : '';
    const line = `${phase.padEnd(16)} ${done}/${total}  ${pct}  ${rate.toFixed(0)}/s  ${eta}`.trimEnd();
    this.out.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };

  end(): void {
    if (this.phase && this.tty) this.out.write('\n');
    this.phase = '';
  }
}
