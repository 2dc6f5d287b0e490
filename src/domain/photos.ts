import type { FileRow } from '../store/file-repository.js';
import type { Ctx } from './context.js';
import type { Deps } from './deps.js';
import { notFound } from './errors.js';

/**
 * Profile photos. A patient's face identifies someone as a patient of this practice, so it
 * goes only to the patient, to the practitioners who share an appointment with them, and
 * to admins; staff photos are part of the practitioner list, for everyone signed in. The
 * rule itself is the scoped store's (store/scoped.ts, ScopedFiles), so no other read of a
 * photo can apply a different one. Anyone else is told the photo does not exist.
 */
export class PhotoService {
  constructor(private readonly deps: Deps) {}

  async get(ctx: Ctx, fileId: string): Promise<FileRow> {
    const file = await this.deps.store.for(ctx).files.find(fileId);
    if (!file) throw notFound('File');
    return file;
  }
}
