/** Placeholder until the worker pool lands: fails clearly. */
import { ThespisError } from '../errors.js';
import type { BaseOptions, SystemBase } from './base.js';

export const WorkersBase = {
  async start(_options: BaseOptions): Promise<SystemBase> {
    throw new ThespisError("base 'workers' is not available yet");
  },
};
