// PostGraphile's configuration in the side-by-side benchmark (bench/compare):
// the amber preset, as PostGraphile recommends, over the schema
// postgraphile_bench (postgraphile.sql: the gateway's public-listing rule)
// and public (the tables its relations reach). Its pool has as many
// connections as the gateway's (DATABASE_MAX_CONNS, default 20). The
// connection string and port come from the environment bench-compare
// starts it with.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["postgraphile_bench", "public"],
      poolConfig: { max: Number(process.env.PG_POOL_MAX || 20) },
    }),
  ],
  // Media, contacts and locations are ordered by position, which no index
  // leads with: without this plugin PostGraphile would not offer that order.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT) },
  grafast: { explain: false },
};

export default preset;
