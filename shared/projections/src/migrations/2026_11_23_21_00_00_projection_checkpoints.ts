import { sql, type Kysely } from 'kysely'

// Migrations are frozen history: they take Kysely<any> and never import application code, so
// later changes to the table types cannot change what an old migration does.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('projection_checkpoints')
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('stream', 'text', (col) => col.notNull())
    .addColumn('position', 'bigint', (col) => col.notNull().check(sql`position >= 0`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('projection_checkpoints_pk', ['name', 'stream'])
    .execute()

  // Read-your-writes waiters LISTEN on one database-wide channel; the payload names the schema
  // so services sharing a database ignore each other's checkpoints. NOTIFY is delivered on
  // commit, so a waiter never sees a position whose effects are not visible yet.
  await sql`
    create function notify_projection_checkpoint() returns trigger
    language plpgsql as $$
    begin
      perform pg_notify('argmax_projection_checkpoint', json_build_object(
        'schema', tg_table_schema,
        'name', new.name,
        'stream', new.stream,
        'position', new.position
      )::text);
      return new;
    end
    $$
  `.execute(db)
  await sql`
    create trigger projection_checkpoints_notify
    after insert or update of position on projection_checkpoints
    for each row execute function notify_projection_checkpoint()
  `.execute(db)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('projection_checkpoints').execute()
  await sql`drop function notify_projection_checkpoint()`.execute(db)
}
