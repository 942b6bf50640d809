// A few lines at the bottom of a terminal, redrawn in place, with ordinary lines printed above them.
// Two ANSI sequences (cursor up, erase to end of screen) are all it takes, so no dependency (log-update
// would bring five for the same): lines are cut to the terminal's width so none wraps and the count of
// lines to erase stays right, and the cursor is never hidden, so an interrupted run leaves nothing to restore.

export interface TerminalStream {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
}

const ESC = '\u001b[';

/** The live area must fit the screen, else erasing it would leave copies scrolled above. */
function fit(lines: string[], rows: number | undefined): string[] {
  const room = Math.max(1, (rows ?? 24) - 2);
  if (lines.length <= room) return lines;
  return [...lines.slice(0, room - 1), `  … and ${lines.length - room + 1} more`];
}

function cut(line: string, columns: number | undefined): string {
  const width = Math.max(10, (columns ?? 80) - 1);
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

export class LiveArea {
  private lines: string[] = [];
  private drawn = 0;

  constructor(
    private readonly stream: TerminalStream,
    private readonly style: (line: string) => string = (l) => l,
  ) {}

  private erase(): string {
    const seq = this.drawn > 0 ? `${ESC}${this.drawn}A\r${ESC}J` : '';
    this.drawn = 0;
    return seq;
  }

  private draw(): string {
    const shown = fit(this.lines, this.stream.rows).map((l) => this.style(cut(l, this.stream.columns)));
    this.drawn = shown.length;
    return shown.map((l) => `${l}\n`).join('');
  }

  /** An ordinary line (already formatted and masked), printed above the live lines. */
  print(line: string): void {
    this.stream.write(`${this.erase()}${line}\n${this.draw()}`);
  }

  /** Replaces the live lines (plain text, already masked); one write, so the terminal does not flicker. */
  render(lines: string[]): void {
    this.lines = lines;
    this.stream.write(`${this.erase()}${this.draw()}`);
  }

  /** Erases the live lines and forgets them; printing goes on as plain lines. */
  clear(): void {
    this.lines = [];
    const seq = this.erase();
    if (seq) this.stream.write(seq);
  }
}
