import { notAvailableYet } from '../sources-pending.js';

export const unload = notAvailableYet('unload', 'unload <hash>', 'unload an actor source (running actors keep running)', true);
