import { notAvailableYet } from '../sources-pending.js';

export const source = notAvailableYet('source', 'source sign|verify ...', 'sign an actor source with an Ed25519 key, or check its signature', false);
