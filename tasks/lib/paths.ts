// Where Fridge keeps its local state: project-local, never in the user's ~/.ssh.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STATE_DIR = process.env.FRIDGE_STATE_DIR ?? path.join(PROJECT_ROOT, '.fridge');
export const KNOWN_HOSTS_FILE = path.join(STATE_DIR, 'known_hosts');
export const SIM_INVENTORY_FILE = path.join(STATE_DIR, 'sim', 'inventory.yaml');
