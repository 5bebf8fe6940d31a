/**
 * Capability matching: does a system with `capabilities` satisfy an actor's
 * `requirements`? A required value of `true` means "present and truthy";
 * anything else must be equal (structurally, for plain data).
 */
export type Capabilities = Record<string, unknown>;
export type CapabilityCheck = (capabilities: Capabilities, requirements: Capabilities) => boolean;

export function defaultCapabilityCheck(capabilities: Capabilities, requirements: Capabilities): boolean {
  for (const key of Object.keys(requirements)) {
    const wanted = requirements[key];
    const have = capabilities[key];
    if (wanted === true) {
      if (!have) return false;
    } else if (!sameValue(have, wanted)) {
      return false;
    }
  }
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Runs a user capabilityCheck defensively: a throwing check means "not compatible". */
export function satisfies(
  capabilities: Capabilities,
  requirements: Capabilities,
  check: CapabilityCheck | undefined,
): boolean {
  if (check) {
    try {
      return Boolean(check(capabilities, requirements));
    } catch {
      return false;
    }
  }
  return defaultCapabilityCheck(capabilities, requirements);
}
