// The task the worker-pool peers run: nothing, so only the pool's own cost shows.
export default function noop() {
  return null;
}
