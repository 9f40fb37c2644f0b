import { ConfigError, loadConfig, redact } from '@brine/config';
import { openDatabase } from '@brine/persistence';

/** `npm run migrate`: creates the database if needed and applies pending migrations (the API does this too at start). */
async function main(): Promise<void> {
  const config = loadConfig();
  const ds = await openDatabase(config.databaseUrl);
  const applied = (await ds.query('SELECT name FROM migrations ORDER BY id')) as Array<{ name: string }>;
  console.log(
    `${redact(config.databaseUrl)}: ${applied.length} migrations applied (${applied.map((m) => m.name).join(', ')})`,
  );
  await ds.destroy();
}

main().catch((e: unknown) => {
  console.error(
    `brine migrate: ${e instanceof ConfigError ? `configuration: ${e.message}` : e instanceof Error ? e.message : String(e)}`,
  );
  process.exit(1);
});
