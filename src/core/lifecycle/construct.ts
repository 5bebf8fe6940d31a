/**
 * The handshake between the kernel and the Actor base class. The kernel sets
 * the cell being constructed just before `new Cls()`; the Actor constructor
 * takes it. This keeps `myAddress` and friends usable inside a constructor
 * without the kernel importing the Actor class (no import cycle), and makes a
 * stray `new MyActor()` outside the kernel fail loudly.
 */
let constructing: unknown = undefined;

export function withConstructing<T>(cell: unknown, build: () => T): T {
  const previous = constructing;
  constructing = cell;
  try {
    return build();
  } finally {
    constructing = previous;
  }
}

export function takeConstructing(): unknown {
  const cell = constructing;
  constructing = undefined;
  return cell;
}
