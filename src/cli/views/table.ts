/**
 * Aligned text tables, and the few colours the CLI uses (only when printing
 * to a terminal; NO_COLOR turns them off, FORCE_COLOR on).
 */
export interface Style {
  heading(text: string): string;
  dim(text: string): string;
  good(text: string): string;
  warn(text: string): string;
}

const paint =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;

const PLAIN: Style = { heading: (t) => t, dim: (t) => t, good: (t) => t, warn: (t) => t };
const COLOURED: Style = { heading: paint(1, 22), dim: paint(2, 22), good: paint(32, 39), warn: paint(33, 39) };

export function style(colour: boolean): Style {
  return colour ? COLOURED : PLAIN;
}

export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

const ESCAPES = /\u001b\[[0-9;]*m/g;

function width(text: string): number {
  return text.replace(ESCAPES, '').length;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

/**
 * Rows under a header, each column as wide as its widest cell, numbers
 * aligned right; every line indented by two spaces. With no rows, `empty`.
 */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, look: Style, empty = '(none)'): string {
  if (rows.length === 0) return `  ${look.dim(empty)}`;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((row) => width(row[i] ?? ''))));
  const numeric = header.map((_, i) => rows.every((row) => NUMERIC.test((row[i] ?? '').replace(ESCAPES, ''))));
  const line = (cells: readonly string[], paintCell: (text: string) => string): string =>
    '  ' +
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - width(cell));
        return numeric[i] ? pad + paintCell(cell) : i === cells.length - 1 ? paintCell(cell) : paintCell(cell) + pad;
      })
      .join('  ');
  return [line(header, look.dim), ...rows.map((row) => line(row, (t) => t))].join('\n');
}

/** Two columns without a header: a name and its value. */
export function pairs(rows: ReadonlyArray<readonly [string, string]>, look: Style): string {
  const widest = Math.max(0, ...rows.map(([name]) => width(name)));
  return rows.map(([name, value]) => `  ${look.dim(name)}${' '.repeat(widest - width(name))}  ${value}`).join('\n');
}
