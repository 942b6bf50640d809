// Where a Pi is now, when pi-setup moved it from its first-contact address (the inventory's ansible_host, a DHCP
// lease) to its fridge_static_ip: recorded in .fridge/addresses.json so the next phase and the next run connect
// at the static address while the inventory keeps saying where the Pi was first found. A record counts only while
// the inventory still says the same thing (same ansible_host and fridge_static_ip); otherwise the inventory wins.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../atomic-file.ts';
import { STATE_DIR } from '../paths.ts';
import type { HostSpec, Inventory } from './types.ts';

export const MOVED_FILE = path.join(STATE_DIR, 'addresses.json');

export interface Move {
  /** The inventory's ansible_host when the host was moved. */
  from: string;
  /** Its fridge_static_ip, where it answers now. */
  to: string;
  /** ISO time of the move. */
  at: string;
}

/** Inventory file (absolute) → host name → its move. */
export type MoveBook = Record<string, Record<string, Move>>;

function isMove(v: unknown): v is Move {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return typeof m.from === 'string' && typeof m.to === 'string' && typeof m.at === 'string';
}

/** The book, without what does not parse (a hand-edited or truncated file costs a move, never a run). */
export function parseMoveBook(text: string): MoveBook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null) return {};
  const book: MoveBook = {};
  for (const [inv, hosts] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof hosts !== 'object' || hosts === null) continue;
    const kept = Object.entries(hosts as Record<string, unknown>).filter((e): e is [string, Move] => isMove(e[1]));
    if (kept.length) book[inv] = Object.fromEntries(kept);
  }
  return book;
}

export function readMoveBook(file = MOVED_FILE): MoveBook {
  try {
    return parseMoveBook(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

export function recordMove(inventoryFile: string, host: string, move: Move, file = MOVED_FILE): void {
  const book = readMoveBook(file);
  const key = path.resolve(inventoryFile);
  book[key] = { ...(book[key] ?? {}), [host]: move };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, `${JSON.stringify(book, null, 2)}\n`, 0o644);
}

/** The host at its static address, when the book says it was moved there from exactly this ansible_host (pure). */
export function movedHost(host: HostSpec, move: Move | undefined): HostSpec {
  if (!move || host.connection !== 'ssh' || move.from !== host.address || move.to !== host.staticIp) return host;
  return { ...host, address: move.to, firstContact: move.from };
}

/** The inventory with every recorded move applied (pure): later code connects where the Pis are. */
export function withMoves(inv: Inventory, book: MoveBook): { inventory: Inventory; moved: HostSpec[] } {
  const moves = book[path.resolve(inv.file)] ?? {};
  const hosts = inv.hosts.map((h) => movedHost(h, moves[h.name]));
  const moved = hosts.filter((h, k) => h !== inv.hosts[k]);
  return { inventory: moved.length ? { ...inv, hosts } : inv, moved };
}
