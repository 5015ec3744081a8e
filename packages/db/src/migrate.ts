// Migrations through Prisma's WebAssembly schema engine: the CLI's native
// engine is downloaded at run time, which offline machines cannot do.
// `applyMigrations` applies prisma/migrations/*/migration.sql and records
// them in `_prisma_migrations` exactly like `prisma migrate deploy`.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import * as engineBindings from "@prisma/schema-engine-wasm/schema_engine_bg";

type SchemaEngine = engineBindings.SchemaEngine;

let loaded: Promise<typeof engineBindings.SchemaEngine> | undefined;

/**
 * The package's entry imports its .wasm file as an ES module, which Node
 * cannot load; instantiate the same module through the WebAssembly API.
 */
function loadSchemaEngine(): Promise<typeof engineBindings.SchemaEngine> {
  loaded ??= (async () => {
    // The .wasm file is not in the package's exports map; it sits beside the bindings.
    const bindingsPath = fileURLToPath(import.meta.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
    const wasmPath = path.join(path.dirname(bindingsPath), "schema_engine_bg.wasm");
    const bytes = await readFile(wasmPath);
    const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": engineBindings });
    engineBindings.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
    return engineBindings.SchemaEngine;
  })();
  return loaded;
}

const NO_FILTER = { externalTables: [], externalEnums: [] };

async function withEngine<T>(
  options: { url?: string; datamodels?: [string, string][] },
  run: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const factory = new PrismaPg({ connectionString: options.url ?? "postgresql://127.0.0.1:1/unused" });
  // The engine never closes the connections it opens, and one of them holds
  // the migration advisory lock: left open, the next migration run in this
  // process waits 10 s for the lock. Track them and dispose them ourselves.
  const opened: { dispose(): Promise<void> }[] = [];
  const tracking = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter = await factory.connect();
      opened.push(adapter);
      return adapter;
    },
    connectToShadowDb: async () => {
      const adapter = await factory.connectToShadowDb();
      opened.push(adapter);
      return adapter;
    },
  } as typeof factory;
  const SchemaEngineClass = await loadSchemaEngine();
  const engine = await SchemaEngineClass.new(
    { datamodels: options.datamodels },
    () => undefined,
    bindMigrationAwareSqlAdapterFactory(tracking),
  );
  try {
    return await run(engine);
  } finally {
    engine.free();
    await Promise.all(opened.map((adapter) => adapter.dispose().catch(() => undefined)));
  }
}

async function loadMigrations(migrationsDir: string) {
  const entries = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrationDirectories = await Promise.all(
    entries.map(async (name) => {
      const file = path.join(migrationsDir, name, "migration.sql");
      const content = await readFile(file, "utf8").then(
        (value) => ({ tag: "ok" as const, value }),
        (error: unknown) => ({ tag: "error" as const, value: String(error) }),
      );
      return { path: name, migrationFile: { path: "migration.sql", content } };
    }),
  );
  const lockPath = path.join(migrationsDir, "migration_lock.toml");
  const lockContent = await readFile(lockPath, "utf8").catch(() => null);
  return {
    baseDir: migrationsDir,
    lockfile: { path: "migration_lock.toml", content: lockContent },
    shadowDbInitScript: "",
    migrationDirectories,
  };
}

/** Applies every migration not yet applied. Returns the names it applied. */
export async function applyMigrations(options: { url: string; migrationsDir: string }): Promise<string[]> {
  const migrationsList = await loadMigrations(options.migrationsDir);
  return withEngine({ url: options.url }, async (engine) => {
    const result = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    return result.appliedMigrationNames;
  });
}

/** SQL that turns the database described by schema `from` (or an empty one) into `to`. */
export async function diffSchemas(options: {
  url: string;
  from: string | null;
  to: string;
}): Promise<string> {
  return withEngine({ url: options.url }, async (engine) => {
    const result = await engine.diff({
      from:
        options.from === null
          ? { tag: "empty" }
          : { tag: "schemaDatamodel", files: [{ path: "from.prisma", content: options.from }] },
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: options.to }] },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    return result.stdout ?? "";
  });
}
