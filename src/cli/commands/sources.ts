import { notAvailableYet } from '../sources-pending.js';

export const sources = notAvailableYet('sources', 'sources [--json]', 'list the actor sources loaded in the system', true);
