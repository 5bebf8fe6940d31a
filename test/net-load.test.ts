// Flow control across systems: a fast sender on one system and a slow
// receiver on another, 5 million messages. Neither process's memory grows
// without bound (the sender is paused while the receiver's mailbox is full),
// and every message arrives once, in order.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSystem, stopAll, type SystemProcess } from './net-helpers.js';
import { eventually } from './conformance/bases.js';

afterEach(() => stopAll());

const ACTORS = new URL('./fixtures/net/actors.js', import.meta.url).href;
const N = 5_000_000;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

describe('a fast sender and a slow receiver on two systems', () => {
  it(`keeps both processes' memory bounded over ${N.toLocaleString('en')} messages, losing none`, async () => {
    const receiver = await spawnSystem({ base: 'inline', admin: { port: 0 } });
    const sender = await spawnSystem({ base: 'inline', admin: { port: 0 }, convention: { leader: receiver.adminAddress } });
    await eventually(async () => (((await sender.command({ op: 'status' })).status as { convention: unknown[] }).convention.length === 2) || undefined, 10_000);
    const counter = (await receiver.command({ op: 'create', spec: `${ACTORS}#Counter` })).address as string;
    // The receiver spends 1 µs on each message: several times slower than the sender.
    await receiver.command({ op: 'ask', to: counter, message: { cost: 1 } });
    const streamer = (await sender.command({ op: 'create', spec: `${ACTORS}#Streamer` })).address as string;
    const base = { receiver: rssMiB(receiver.pid), sender: rssMiB(sender.pid) };
    const peak = { ...base };
    const sample = (p: SystemProcess, key: 'receiver' | 'sender'): void => {
      peak[key] = Math.max(peak[key], rssMiB(p.pid));
    };
    const timer = setInterval(() => {
      sample(receiver, 'receiver');
      sample(sender, 'sender');
    }, 50);
    try {
      const sent = sender.command({ op: 'ask', to: streamer, message: { stream: { to: { $address: counter }, n: N, batch: 2000 } }, timeoutMs: 300_000 });
      await sent;
      await eventually(async () => {
        const reply = (await receiver.command({ op: 'ask', to: counter, message: 'count', timeoutMs: 30_000 })).reply as { count: number };
        return reply.count === N || undefined;
      }, 120_000);
    } finally {
      clearInterval(timer);
    }
    const tally = (await receiver.command({ op: 'ask', to: counter, message: 'count' })).reply;
    expect(tally).toEqual({ count: N, duplicates: 0, gaps: 0 });
    expect(peak.receiver - base.receiver).toBeLessThan(256);
    expect(peak.sender - base.sender).toBeLessThan(256);
    console.log(`net-load: RSS growth receiver ${(peak.receiver - base.receiver).toFixed(0)} MiB, sender ${(peak.sender - base.sender).toFixed(0)} MiB`);
  }, 300_000);
});
