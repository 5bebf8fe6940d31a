// The size sweep: payload sizes, their figure labels, and how many payloads a
// full run moves of each (512 MiB; --quick an eighth). Shared by the thespis
// suites and their peers so both move the same bytes.

const MOVED = 512 * 1024 * 1024;

function size(label, bytes) {
  return { label, size: bytes, count: Math.max(8, Math.round(MOVED / bytes)) };
}

export const SIZES = [size('10k', 10 * 1024), size('1m', 1024 * 1024), size('16m', 16 * 1024 * 1024)];

/** The sizes process figures cover (the sweep for processes starts at 1 MiB). */
export const PROCESS_SIZES = SIZES.filter((s) => s.size >= 1024 * 1024);
