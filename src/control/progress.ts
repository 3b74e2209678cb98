// Progress of a long command (`kauth import`) on stderr, so that stdout stays one JSON document.
// On a terminal one line is redrawn in place; elsewhere (a pipe, a log, the control socket) each
// step's progress is a plain line of its own.
import type { ImportProgress } from '../domain/import';

/** Where progress goes: a command's stderr. */
interface ProgressOutput {
  stderr(text: string): void | Promise<void>;
}

const BAR_WIDTH = 30;

function line({ step, done, total }: ImportProgress, interactive: boolean): string {
  const share = total === 0 ? 1 : done / total;
  const percent = `${Math.floor(share * 100)}%`.padStart(4);
  if (!interactive) return `kauth: import: ${step} ${done}/${total} (${percent.trim()})`;
  const filled = Math.round(share * BAR_WIDTH);
  return `import ${step.padEnd(15)} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${percent} ${done}/${total}`;
}

/** Reports each step's progress to `out`'s stderr; `interactive`: redraws one line per step. */
export function progressReporter(out: ProgressOutput, interactive: boolean): (progress: ImportProgress) => Promise<void> {
  return async (progress) => {
    const finished = progress.done >= progress.total;
    if (interactive) await out.stderr(`\r${line(progress, true)}${finished ? '\n' : ''}`);
    else await out.stderr(`${line(progress, false)}\n`);
  };
}
