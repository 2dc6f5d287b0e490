import type { Kysely, Selectable } from 'kysely';
import type { DB, FilesTable } from './schema.js';

export type FileRow = Selectable<FilesTable>;

export class FileRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: FileRow): Promise<void> {
    await this.db.insertInto('files').values(row).execute();
  }

  find(id: string): Promise<FileRow | undefined> {
    return this.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
