/**
 * How big a source may be. A source travels whole in one message (to
 * kernels, to other systems), under the codec's 64 MiB frame limit, and is
 * held in memory by every thread that runs its actors: these bounds keep a
 * hostile or mistaken bundle (a zip bomb, a million tiny entries) from
 * costing more than a large legitimate one.
 */
export interface SourceLimits {
  /** Sum of the files' sizes once unpacked. */
  readonly maxBytes: number;
  /** Number of files. */
  readonly maxFiles: number;
  /**
   * Unpacked size over packed size, for an archive as a whole and for each
   * compressed entry, once more than `ratioFloorBytes` is unpacked (a small
   * file of repeated text may legitimately pack very well).
   */
  readonly maxRatio: number;
  readonly ratioFloorBytes: number;
  /** Size of an archive (or of the bytes given) before unpacking. */
  readonly maxArchiveBytes: number;
  /** Length of one path, in UTF-8 bytes. */
  readonly maxPathBytes: number;
  /** Directories in one path. */
  readonly maxDepth: number;
}

export const SOURCE_LIMITS: Readonly<SourceLimits> = Object.freeze({
  maxBytes: 32 * 1024 * 1024,
  maxFiles: 10_000,
  maxRatio: 100,
  ratioFloorBytes: 1024 * 1024,
  maxArchiveBytes: 48 * 1024 * 1024,
  maxPathBytes: 1024,
  maxDepth: 32,
});
