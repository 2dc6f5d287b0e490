import type { Role } from '../store/schema.js';

/** Who is acting, and from where: every domain function that touches data takes one. */
export interface Actor {
  id: string;
  role: Role;
  name: string;
}

export interface Ctx {
  actor: Actor;
  ip: string | null;
}

/** For work the server does on its own (demo practice, jobs): audited as the system. */
export const systemCtx = (ip: string | null = null): Ctx => ({
  actor: { id: 'system', role: 'admin', name: 'System' },
  ip,
});
