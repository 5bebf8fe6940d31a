/**
 * A remote host's process, from stage 2 on: the runtime (this bundle) is
 * evaluated; `runRemote` makes stdout the link (what user code prints goes to
 * stderr instead), registers the loader's providers, starts the kernel and
 * the agent, and prints the ready marker. When the link to the parent ends
 * for any reason, the hosts started through this one are ended and the
 * process exits: no remote process outlives its link.
 */
import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { DEFAULT_LIMITS } from '../../transport/codec/codec.js';
import { setLoaderHookUrl } from '../../loader/loader.js';
import { Agent } from './agent.js';
import { readyMarker } from '../bootstrap.js';
import { PayloadBuilder } from '../child-hosts.js';
import { ForwardedModules, installForwarding, type ModulesAnswer } from '../forwarded-modules.js';
import type { RemoteBoot, RuntimeParts } from '../protocol.js';
import { makeRemoteKernel, type RemoteKernelHost } from './remote-kernel.js';
import { StdioLink } from '../stdio-link.js';

export function runRemote(parts: RuntimeParts, boot: RemoteBoot): void {
  setLoaderHookUrl(() => `data:text/javascript,${encodeURIComponent(parts.hook)}`);
  writeSync(1, readyMarker(boot.token));
  const output = new Socket({ fd: 1, readable: false, writable: true });
  Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => process.stderr });
  let host: RemoteKernelHost | undefined;
  let agent: Agent | undefined;
  let leaving = false;
  const leave = (): void => {
    if (leaving) return;
    leaving = true;
    const exit = setTimeout(() => process.exit(0), 3000);
    void (agent?.closeChildren() ?? Promise.resolve()).finally(() => {
      clearTimeout(exit);
      host?.kernel.close();
      process.exit(0);
    });
  };
  const link = new StdioLink(
    process.stdin,
    output,
    DEFAULT_LIMITS.maxFrameBytes,
    {
      onRecord: (record) => host!.fromParent(record),
      onClosed: leave,
    },
    undefined,
    boot.linkSpinUs,
  );
  host = makeRemoteKernel(boot, link);
  agent = new Agent(host, new PayloadBuilder(() => parts));
  const asker = agent;
  installForwarding(
    new ForwardedModules(
      (path) => asker.ask({ op: 'module', path }) as Promise<ModulesAnswer>,
      (specifier, importer) => asker.ask({ op: 'resolve', specifier, importer }) as Promise<string>,
    ),
  );
}
