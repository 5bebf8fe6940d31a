/** The inline base: every actor on the thread that started the system. */
import { Kernel, type KernelHost, type NameRegistry } from '../core/kernel.js';
import type { LogRecord } from '../core/log.js';
import type { Frame } from '../core/protocol.js';
import type { BaseOptions, BaseStatus, SystemBase } from './base.js';
import { HostBasics } from './host-basics.js';

class InlineHost extends HostBasics implements KernelHost {
  constructor(
    readonly names: NameRegistry,
    private readonly logSink: (record: LogRecord) => void,
    private readonly kernelId: string,
  ) {
    super();
  }

  sendFrame(_kernelId: string, _frame: Frame): boolean {
    return false; // there is no other kernel
  }

  place(): string {
    return this.kernelId;
  }

  log(record: LogRecord): void {
    this.logSink(record);
  }
}

export class InlineBase implements SystemBase {
  readonly name = 'inline';
  readonly kernel: Kernel;

  constructor(options: BaseOptions) {
    const host = new InlineHost(options.names, options.log, options.mainKernelId);
    this.kernel = new Kernel(options.mainKernelId, host, options.adminAddress, options.capabilities);
  }

  otherKernels(): string[] {
    return [];
  }

  status(): BaseStatus {
    return { threads: 1, processes: 1 };
  }

  async stop(): Promise<void> {
    this.kernel.close();
  }
}
