/**
 * A link between two threads: frames encoded with the codec, moved through a
 * pair of SharedArrayBuffer rings (one per direction). Encoding is sequential
 * (cbor-x record definitions are sent once, then referenced), which is valid
 * because a ring delivers every record exactly once and in order.
 */
import type { Frame } from '../core/protocol.js';
import { Codec } from './codec.js';
import type { FrameHandler, Link } from './link.js';
import { createRing, RingReader, RingWriter } from './ring.js';

export const RING_BYTES = 1 << 20;

/** The two rings of a link, as seen from one end. */
export interface RingPair {
  out: SharedArrayBuffer;
  in: SharedArrayBuffer;
}

export function createRingPair(): { a: RingPair; b: RingPair } {
  const ab = createRing(RING_BYTES);
  const ba = createRing(RING_BYTES);
  return { a: { out: ab, in: ba }, b: { out: ba, in: ab } };
}

export class ThreadLink implements Link {
  private readonly codec = new Codec({}, { sequential: true });
  private readonly writer: RingWriter;
  private readonly reader: RingReader;
  private closed = false;

  constructor(
    rings: RingPair,
    onFrame: FrameHandler,
    private readonly onBadFrame: (error: unknown) => void,
  ) {
    this.writer = new RingWriter(rings.out);
    this.reader = new RingReader(rings.in, { maxSpinUs: 20 });
    this.reader.start((records) => {
      for (const record of records) {
        let decoded: unknown;
        try {
          decoded = this.codec.decode(record);
        } catch (error) {
          this.onBadFrame(error);
          continue;
        }
        const [destination, frame] = decoded as [string, Frame];
        onFrame(destination, frame);
      }
    });
  }

  send(destination: string, frame: Frame): void {
    if (this.closed) return;
    this.writer.writeOrQueue(this.codec.encode([destination, frame]));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.stop();
    this.writer.close();
  }
}
