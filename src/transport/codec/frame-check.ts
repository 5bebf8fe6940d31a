/**
 * Shape checks for frames decoded from an untrusted link (a child process, a
 * socket). The codec already bounds size and depth and types addresses; this
 * makes sure what reaches the kernel is a frame it can handle, so a broken or
 * hostile peer fails its own batch instead of throwing inside the kernel.
 */
import { ActorAddress } from '../../address.js';
import { FrameKind, type Frame } from '../../core/protocol.js';

const isAddress = (value: unknown): value is ActorAddress => value instanceof ActorAddress;
const isString = (value: unknown): value is string => typeof value === 'string';
const optional = (value: unknown, check: (v: unknown) => boolean): boolean => value === undefined || value === null || check(value);

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCreateRequest(value: unknown): boolean {
  if (!isPlainRecord(value)) return false;
  const spec = value.spec;
  return (
    isAddress(value.address) &&
    isAddress(value.parent) &&
    isPlainRecord(spec) &&
    isString(spec.module) &&
    isString(spec.exportName) &&
    optional(value.globalName, isString) &&
    optional(value.requirements, isPlainRecord) &&
    optional(value.ack, isAddress) &&
    optional(value.troupeLeader, isAddress)
  );
}

function isControlOp(value: unknown): boolean {
  if (!isPlainRecord(value) || !isString(value.op)) return false;
  switch (value.op) {
    case 'capabilities':
      return isPlainRecord(value.capabilities) && optional(value.ack, isAddress);
    case 'status':
    case 'stopAll':
      return isAddress(value.ack);
    case 'spawnKernel':
      return isString(value.kernelId) && optional(value.startup, isString) && optional(value.preload, isString);
    case 'kernelDown':
      return isString(value.kernelId) && optional(value.drain, (v) => typeof v === 'boolean');
    case 'retire':
    case 'downSeen':
    case 'retired':
      return isString(value.kernelId);
    case 'drained':
      return true;
    case 'congested':
      return isString(value.scope) && optional(value.kernel, isString) && optional(value.leaseMs, (v) => typeof v === 'number' && v >= 0 && v <= 60_000) && optional(value.fanOut, (v) => typeof v === 'boolean');
    case 'relieved':
      return isString(value.scope) && optional(value.fanOut, (v) => typeof v === 'boolean');
    case 'members':
      return Array.isArray(value.members) && value.members.every((m: unknown) => isPlainRecord(m) && isString(m.systemId) && isString(m.kernel) && isPlainRecord(m.capabilities) && typeof m.actors === 'number');
    case 'peerBroke':
      return isString(value.kernelId) && isString(value.reason);
    default:
      return false;
  }
}

/** True when `value` is a frame the kernel can take. */
export function isFrame(value: unknown): value is Frame {
  if (!Array.isArray(value)) return false;
  switch (value[0]) {
    case FrameKind.Message:
      return value.length === 4 && isAddress(value[1]) && (value[2] === null || isAddress(value[2]));
    case FrameKind.Create:
      return value.length === 2 && isCreateRequest(value[1]);
    case FrameKind.Watch:
    case FrameKind.Unwatch:
      return value.length === 3 && isAddress(value[1]) && isAddress(value[2]);
    case FrameKind.Control:
      return value.length === 2 && isControlOp(value[1]);
    default:
      return false;
  }
}
