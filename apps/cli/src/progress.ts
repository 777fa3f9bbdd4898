/** A progress line on stderr (events/s and ETA), redrawn in place on a terminal, one line per update otherwise. */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(private readonly label: string) {}

  update(done: number, total: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = done / seconds;
    const fraction = total > 0 ? Math.min(done / total, 1) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const eta = rate > 0 && total > done ? `${Math.ceil((total - done) / rate)}s` : '0s';
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${Math.round(rate)}/s ETA ${eta}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
    else process.stderr.write(`${line}\n`);
  }

  done(done: number, total: number): void {
    this.update(done, total, true);
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}
