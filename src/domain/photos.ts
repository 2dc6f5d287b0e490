import type { FileRow } from '../store/file-repository.js';
import type { Ctx } from './context.js';
import type { Deps } from './deps.js';
import { notFound } from './errors.js';

/**
 * Who may see a profile photo. A patient's face identifies someone as a patient of this
 * practice, so it goes only to the patient, to the people who share an appointment or a
 * conversation with them, and to admins. Staff photos are part of the practitioner list,
 * for everyone signed in. Anyone else is told the photo does not exist.
 */
export class PhotoService {
  constructor(private readonly deps: Deps) {}

  async get(ctx: Ctx, fileId: string): Promise<FileRow> {
    const { store } = this.deps;
    const owner = await store.users.findByPhoto(fileId);
    if (!owner || !(await this.maySee(ctx, owner))) throw notFound('File');
    const file = await store.files.find(fileId);
    if (!file) throw notFound('File');
    return file;
  }

  private async maySee(ctx: Ctx, owner: { id: string; role: string }): Promise<boolean> {
    if (owner.role !== 'patient') return true;
    if (ctx.actor.id === owner.id || ctx.actor.role === 'admin') return true;
    if (ctx.actor.role !== 'practitioner') return false;
    return this.deps.store.appointments.connected(owner.id, ctx.actor.id);
  }
}
