/**
 * How the decoder extension for BYTES_TAG (codec.ts) hands out byte values:
 * large ones as views of the record being decoded when the record's memory
 * belongs to the receiver alone (`allowed`, set around one decode by
 * fast-batch.ts), else as copies. A view's `buffer` is the whole record
 * (like a pooled Buffer's): `slice()` gives a compact copy of one's own. `taken` says a decode handed out a view, so the record's memory
 * must not be reused. Decoding is synchronous and per thread: one flag pair
 * serves every decoder of the thread.
 */
export const byteViews = { allowed: false, taken: false };
