import { notAvailableYet } from '../sources-pending.js';

export const load = notAvailableYet('load', 'load <dir|.zip|.tgz>', 'load an actor source into the system and print its hash', true);
