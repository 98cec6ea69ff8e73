/**
 * `--help`, written for flusso rather than generated: for each command its usage, what it
 * does and one line per flag — meaning, default and `FLUSSO_*` twin — in the style of a
 * tool's own help (`flusso run --help`). @effect/cli still parses the flags; its generated
 * help (type boilerplate, built-in `--wizard`/`--completions`, a second `--log-level`)
 * is never shown. test/unit/cli/help.test.ts keeps these tables in step with the flags
 * the commands declare.
 */

export interface FlagHelp {
  /** As typed, with its value: `--config F`, `-o, --output F`. */
  readonly flag: string
  readonly meaning: string
  readonly default?: string
  readonly env?: string
}

export interface CommandHelp {
  /** The words after `flusso`: `["slot", "drop"]`. */
  readonly path: ReadonlyArray<string>
  /** What follows the path in the usage line. */
  readonly usage: string
  readonly summary: string
  /** Paragraphs after the summary. */
  readonly details?: ReadonlyArray<string>
  readonly flags: ReadonlyArray<FlagHelp>
}

const CONFIG: FlagHelp = {
  flag: "--config F",
  meaning: "the deployment config: .ts, .mts, .js, .mjs, .json, or a Rust flusso.toml",
  default: "flusso.config.ts, else flusso.lock.json",
  env: "FLUSSO_CONFIG"
}
const LOCK: FlagHelp = { flag: "--lock F", meaning: "a compiled lock (flusso build) instead of --config", env: "FLUSSO_LOCK" }
const LOG_FORMAT: FlagHelp = {
  flag: "--log-format human|json",
  meaning: "log lines on stderr: human (coloured on a terminal) or json (one object a line)",
  default: "human",
  env: "FLUSSO_LOG_FORMAT"
}
const LOG_LEVEL: FlagHelp = {
  flag: "--log-level L",
  meaning: "least severe level logged: trace, debug, info, warn, error, fatal or none",
  default: "info",
  env: "FLUSSO_LOG_LEVEL"
}
const ADMIN_USER: FlagHelp = { flag: "--admin-user U", meaning: "user of the private HTTP surface", default: "admin", env: "FLUSSO_ADMIN_USER" }
const ADMIN_PASSWORD: FlagHelp = {
  flag: "--admin-password P",
  meaning: "password of the private HTTP surface (never empty)",
  default: "flusso",
  env: "FLUSSO_ADMIN_PASSWORD"
}
const SERVER: FlagHelp = { flag: "--server URL", meaning: "the running flusso's private HTTP surface", default: "http://127.0.0.1:9465", env: "FLUSSO_SERVER" }
const HELP: FlagHelp = { flag: "-h, --help", meaning: "show this help" }

export const COMMANDS: ReadonlyArray<CommandHelp> = [
  {
    path: ["run"],
    usage: "[flags]",
    summary: "keep the configured OpenSearch indexes in step with PostgreSQL",
    details: [
      "Checks the config against the database as flusso check does, then prepares the publication, the slot and the indexes, seeds what needs seeding and follows live changes until stopped (Ctrl-C or SIGTERM). A database or cluster that cannot be reached is waited for."
    ],
    flags: [
      CONFIG,
      { flag: "--lock F", meaning: "run a compiled lock; with --config, rewrite this lock from the config first", env: "FLUSSO_LOCK" },
      { flag: "--locked", meaning: "refuse to run when --config would compile to a different lock (CI deploys)", default: "off", env: "FLUSSO_LOCKED" },
      { flag: "--skip-backfill", meaning: "never seed: only follow live changes", default: "off", env: "FLUSSO_SKIP_BACKFILL" },
      { flag: "--slot NAME", meaning: "replication slot", default: "source.slot of the config", env: "FLUSSO_SLOT" },
      { flag: "--publication NAME", meaning: "publication", default: "source.publication of the config", env: "FLUSSO_PUBLICATION" },
      {
        flag: "--manage-publication",
        meaning: "create the publication or add the tables it lacks",
        default: "source.managePublication",
        env: "FLUSSO_MANAGE_PUBLICATION=true"
      },
      {
        flag: "--no-manage-publication",
        meaning: "never touch the publication: print the SQL to run instead",
        env: "FLUSSO_MANAGE_PUBLICATION=false"
      },
      { flag: "--index-prefix P", meaning: "prefix of every index, alias and meta index", default: "prefix of the config", env: "FLUSSO_INDEX_PREFIX" },
      {
        flag: "--public-address HOST:PORT",
        meaning: "/healthz, /readyz, /status, /metrics (no authentication)",
        default: "127.0.0.1:9464",
        env: "FLUSSO_PUBLIC_ADDRESS"
      },
      {
        flag: "--private-address HOST:PORT",
        meaning: "/indexes, /reindex, /quarantine (HTTP Basic)",
        default: "127.0.0.1:9465",
        env: "FLUSSO_PRIVATE_ADDRESS"
      },
      ADMIN_USER,
      ADMIN_PASSWORD,
      {
        flag: "--allow-default-credentials",
        meaning: "let the private surface keep admin/flusso on an address other than loopback",
        default: "off",
        env: "FLUSSO_ALLOW_DEFAULT_CREDENTIALS"
      },
      { flag: "--lag-poll-secs N", meaning: "seconds between readings of the slot's lag", default: "15", env: "FLUSSO_LAG_POLL_SECS" },
      { flag: "--progress-secs N", meaning: "seconds between seeding progress lines when stderr is not a terminal", default: "10", env: "FLUSSO_PROGRESS_SECS" },
      { flag: "--cluster", meaning: "run as one runner of a deployment spread over several processes (docs/cluster.md)", default: "off", env: "FLUSSO_CLUSTER" },
      {
        flag: "--runner-address HOST:PORT",
        meaning: "with --cluster: where this runner listens and the other runners reach it",
        env: "FLUSSO_RUNNER_ADDRESS"
      },
      {
        flag: "--runner-health ping|k8s",
        meaning: "with --cluster: how runners tell another is gone (ping it, or ask the Kubernetes API)",
        default: "ping",
        env: "FLUSSO_RUNNER_HEALTH"
      },
      LOG_FORMAT,
      LOG_LEVEL,
      HELP
    ]
  },
  {
    path: ["check"],
    usage: "[flags]",
    summary: "validate the config; online also against the database and every sink",
    details: [
      "Prints its findings — errors, warnings and notes, each with where and the fix — and a summary; exits non-zero on any error. Online (the default) it compares the config with the catalog (columns, types, nullability, join keys), the publication, replica identity, privileges and the slot, and probes every OpenSearch sink (reachable, version, allowed to create indexes)."
    ],
    flags: [
      CONFIG,
      LOCK,
      { flag: "--offline", meaning: "the config alone: no database, no sink, no secrets", default: "off", env: "FLUSSO_OFFLINE" },
      { flag: "--mappings", meaning: "also print each index's mapping", default: "off", env: "FLUSSO_MAPPINGS" },
      { flag: "--format human|json", meaning: "the report", default: "human", env: "FLUSSO_FORMAT" },
      LOG_FORMAT,
      LOG_LEVEL,
      HELP
    ]
  },
  {
    path: ["build"],
    usage: "[flags]",
    summary: "compile the config into a lock that runs without the TypeScript toolchain",
    flags: [
      CONFIG,
      { flag: "-o, --output F", meaning: "where the lock goes (- for stdout)", default: "flusso.lock.json", env: "FLUSSO_OUTPUT" },
      HELP
    ]
  },
  {
    path: ["schema"],
    usage: "[flags]",
    summary: "print the JSON Schema of the config (editor completion for .json configs)",
    flags: [{ flag: "-o, --output F", meaning: "where the JSON Schema goes (- for stdout)", default: "-", env: "FLUSSO_OUTPUT" }, HELP]
  },
  {
    path: ["migrate"],
    usage: "[flags]",
    summary: "write the Rust flusso's flusso.toml (and its *.schema.yml) as an equivalent flusso.config.ts",
    flags: [
      { flag: "--config F", meaning: "the Rust flusso's config", default: "flusso.toml", env: "FLUSSO_CONFIG" },
      { flag: "-o, --output F", meaning: "where the TypeScript config goes (- for stdout)", default: "flusso.config.ts", env: "FLUSSO_OUTPUT" },
      HELP
    ]
  },
  {
    path: ["indexes"],
    usage: "[flags]",
    summary: "list the indexes of a running flusso: state, generations, seeding progress",
    flags: [SERVER, { flag: "--format human|json", meaning: "the output", default: "human", env: "FLUSSO_FORMAT" }, ADMIN_USER, ADMIN_PASSWORD, HELP]
  },
  {
    path: ["reindex"],
    usage: "<index> [flags]",
    summary: "rebuild an index of a running flusso into a new generation, live sync going on",
    flags: [
      { flag: "--wait", meaning: "return once the new generation serves", default: "off", env: "FLUSSO_WAIT" },
      SERVER,
      ADMIN_USER,
      ADMIN_PASSWORD,
      HELP
    ]
  },
  {
    path: ["slot", "drop"],
    usage: "[flags]",
    summary: "drop the replication slot (when the deployment is retired)",
    flags: [CONFIG, LOCK, { flag: "--slot NAME", meaning: "the slot to drop", default: "source.slot of the config", env: "FLUSSO_SLOT" }, LOG_FORMAT, LOG_LEVEL, HELP]
  },
  {
    path: ["cluster", "drop"],
    usage: "[flags]",
    summary: "drop a cluster deployment's tables (schema flusso_cluster) when it is retired",
    details: [
      "Refused while a runner of the deployment is registered; the schema goes too once no deployment has tables left in it. The replication slot stays: flusso slot drop removes it."
    ],
    flags: [
      CONFIG,
      LOCK,
      { flag: "--slot NAME", meaning: "the deployment's slot (its tables are named for it)", default: "source.slot of the config", env: "FLUSSO_SLOT" },
      LOG_FORMAT,
      LOG_LEVEL,
      HELP
    ]
  }
]

const GROUPS: Readonly<Record<string, string>> = { slot: "manage the replication slot", cluster: "remove a cluster deployment's tables" }

/** Columns, two spaces apart; the last one as long as it is. */
const table = (rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const widths = rows.reduce<Array<number>>((w, row) => row.map((cell, i) => (i === row.length - 1 ? 0 : Math.max(w[i] ?? 0, cell.length))), [])
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")}`.trimEnd())
}

const flagLine = (f: FlagHelp): ReadonlyArray<string> => [
  f.flag,
  [f.meaning, f.default === undefined ? "" : `[default: ${f.default}]`, f.env === undefined ? "" : `[env: ${f.env}]`].filter((p) => p !== "").join(" ")
]

export const commandHelp = (command: CommandHelp, version: string): string =>
  [
    `flusso ${command.path.join(" ")} — ${command.summary}`,
    "",
    `Usage: flusso ${command.path.join(" ")} ${command.usage}`,
    ...(command.details ?? []).flatMap((paragraph) => ["", paragraph]),
    "",
    "Flags:",
    ...table(command.flags.map(flagLine)),
    "",
    `Every flag also reads its FLUSSO_* variable; the flag wins. flusso ${version}`
  ].join("\n")

export const mainHelp = (version: string): string =>
  [
    `flusso ${version} — keeps OpenSearch indexes in step with PostgreSQL`,
    "",
    "Usage: flusso <command> [flags]",
    "",
    "Commands:",
    ...table([
      ...COMMANDS.filter((c) => c.path.length === 1).map((c) => [`${c.path[0]} ${c.usage.replace(/ ?\[flags\]$/, "")}`.trim(), c.summary]),
      ...Object.entries(GROUPS).map(([group, summary]) => [`${group} drop`, summary])
    ]),
    "",
    "Flags:",
    ...table([["-h, --help", "show this help (flusso <command> --help: the command's)"], ["--version", "print the version"]]),
    "",
    "Docs: docs/operations.md (commands, HTTP surfaces, metrics, logs), docs/configuration.md."
  ].join("\n")

/** The help `args` (the words after `flusso`) ask for, or undefined when they ask for none. */
export const helpFor = (args: ReadonlyArray<string>, version: string): string | undefined => {
  const words = args.filter((a) => !a.startsWith("-"))
  const asked = args.includes("--help") || args.includes("-h")
  if (args.length === 0) return mainHelp(version)
  // A group alone (`flusso slot`) lists what is under it.
  if (words.length === 1 && args.length === 1 && GROUPS[words[0] ?? ""] !== undefined) {
    const first = COMMANDS.find((c) => c.path[0] === words[0])
    return first === undefined ? mainHelp(version) : commandHelp(first, version)
  }
  if (!asked) return undefined
  const command = [...COMMANDS].sort((a, b) => b.path.length - a.path.length).find((c) => c.path.every((p, i) => words[i] === p))
  return command === undefined ? mainHelp(version) : commandHelp(command, version)
}
