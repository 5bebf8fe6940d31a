/**
 * Troupes: one address in front of up to `max` identical members.
 *
 * The leader is a runtime-made behavior in an ordinary cell. It forwards each
 * message to one idle member *in the original sender's name*, so the member's
 * reply goes straight back to whoever sent it. A member tells its leader when
 * it has finished a message (the dispatcher sends TroupeIdle), which is what
 * lets the leader hand out one message per member at a time. Members are the
 * leader's children: ActorExitRequest to the leader stops them all first.
 * Members beyond `idle` that go idle are retired, so a burst can grow the
 * troupe to `max` and quiet times shrink it back.
 */
import type { ActorAddress } from '../address.js';
import { ActorExitRequest, ChildActorExited, registerMessage } from '../messages.js';
import type { Cell } from './cell.js';
import { Fifo } from './queue.js';
import type { ActorBehavior, ResolvedSpec, TroupeOptions } from './spec.js';

/** From a member to its leader: done with the message it was given. */
export class TroupeIdle {}
registerMessage(TroupeIdle, 'thespis.internal.TroupeIdle');

/** What the leader needs from its kernel. */
export interface TroupeKernel {
  send(from: ActorAddress | null, to: ActorAddress, body: unknown): void;
  createMember(leader: Cell, spec: ResolvedSpec): ActorAddress;
}

export class TroupeLeader implements ActorBehavior {
  private readonly idle: ActorAddress[] = [];
  private readonly members = new Map<string, ActorAddress>();
  private readonly waiting = new Fifo<[unknown, ActorAddress | null]>();
  private readonly max: number;
  private readonly keepIdle: number;

  constructor(
    private readonly kernel: TroupeKernel,
    private readonly cell: Cell,
    private readonly spec: ResolvedSpec,
    options: TroupeOptions,
  ) {
    this.max = Math.max(1, Math.floor(options.max));
    this.keepIdle = Math.max(0, Math.floor(options.idle ?? this.max));
  }

  receiveMessage(message: unknown, sender: ActorAddress | null): void {
    if (message instanceof TroupeIdle) {
      if (sender !== null && this.members.has(sender.id) && !this.idle.some((m) => m.equals(sender))) this.memberIdle(sender);
      return;
    }
    if (message instanceof ChildActorExited) {
      this.members.delete(message.childAddress.id);
      const at = this.idle.findIndex((m) => m.equals(message.childAddress));
      if (at >= 0) this.idle.splice(at, 1);
      this.pump();
      return;
    }
    if (message instanceof ActorExitRequest) return; // the kernel stops the members, then the leader
    this.waiting.push([message, sender]);
    this.pump();
  }

  /** Messages not handed to a member yet, taken out (the system shuts down: they are dropped, see lifecycle/shutdown.ts). */
  takeWaiting(): Array<[unknown, ActorAddress | null]> {
    const out: Array<[unknown, ActorAddress | null]> = [];
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) out.push(next);
    return out;
  }

  private memberIdle(member: ActorAddress): void {
    if (this.waiting.length === 0 && this.idle.length >= this.keepIdle) {
      this.members.delete(member.id);
      this.kernel.send(this.cell.address, member, new ActorExitRequest());
      return;
    }
    this.idle.push(member);
    this.pump();
  }

  private pump(): void {
    while (this.waiting.length > 0) {
      let member = this.idle.pop();
      if (member === undefined) {
        if (this.members.size >= this.max) return;
        member = this.kernel.createMember(this.cell, this.spec);
        this.members.set(member.id, member);
      }
      const [message, sender] = this.waiting.shift()!;
      this.kernel.send(sender, member, message);
    }
  }
}
