"use strict";
// The `strongroom` process, its CLI and its agent, as the JavaScript SDK suite drives them (the JS twin of
// tests/sdk-python/strongroom_server.py and the Agent of test_managed_identity.py).
//
// - `StrongroomServer.start(root)` runs `$STRONGROOM_BIN serve --data-dir <root>/data --listen 127.0.0.1:0
//   --dev-clock`, reads stdout until the `strongroom ready: {json}` line (docs/CONTRACTS.md "Start-up and
//   readiness"), keeps copying stdout and stderr into <root>/logs, and stops the process at the end.
// - `server.cli(...)` runs `strongroom --data-dir <root>/data …`; `cliJson` parses what it prints.
// - `runProgram(program, args, env)` runs one of ./programs in a fresh `node` whose environment is exactly `env`
//   (what `strongroom env …` printed, plus PATH, HOME and NODE_PATH to find the SDK), with ./loopback.cjs
//   preloaded for `*.localhost`, and returns the JSON report the program prints last.
//
// Programs run in their own processes because Node reads NODE_EXTRA_CA_CERTS only at start-up: the CA variable
// `strongroom env` prints is then what makes TLS work, as it is for a user's program.

const { spawn, execFile } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");

const READY_PREFIX = "strongroom ready: ";
const AGENT_READY_PREFIX = "strongroom agent ready: ";
const READY_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 60_000;
const PROGRAM_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;

const PROGRAMS_DIR = path.join(__dirname, "..", "programs");
const LOOPBACK = path.join(__dirname, "loopback.cjs");

/** `$STRONGROOM_BIN`, the binary under test; scripts/test-sdk-js.sh sets it. */
function strongroomBinary() {
  const binary = process.env.STRONGROOM_BIN;
  if (!binary) {
    throw new Error("STRONGROOM_BIN must name the strongroom binary: run scripts/test-sdk-js.sh");
  }
  fs.accessSync(binary, fs.constants.X_OK);
  return binary;
}

/** Where the installed SDK lives (`npm ci` into a cache outside the clone); scripts/test-sdk-js.sh sets it. */
function sdkModules() {
  const modules = process.env.NODE_PATH;
  if (!modules || !fs.existsSync(path.join(modules, "@azure", "identity"))) {
    throw new Error("NODE_PATH must name the node_modules of tests/sdk-js/package-lock.json: run scripts/test-sdk-js.sh");
  }
  return modules;
}

/** A fresh directory for one test file's server and programs, under $STRONGROOM_SDK_JS_TMP when set. */
function suiteRoot(name) {
  const base = process.env.STRONGROOM_SDK_JS_TMP || os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${name}-`));
}

/** A vault, secret or identity name unique in this run: letters first, then hex (valid for every kind). */
function uniqueName(prefix) {
  return `${prefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

/** `export NAME='value'` lines (POSIX single quotes, `'\''` for a quote) into an object. */
function parseEnvExports(text) {
  const env = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=((?:'[^']*'|\\')*)$/.exec(line);
    if (!match) throw new Error(`unexpected line in \`strongroom env\` output: ${JSON.stringify(line)}`);
    env[match[1]] = match[2].replace(/'([^']*)'|\\'/g, (quoted, inner) => (quoted === "\\'" ? "'" : inner));
  }
  return env;
}

/** The whole environment of a program: `exported` plus what starting node and finding the SDK need. */
function programEnv(exported, extra = {}) {
  return {
    PATH: process.env.PATH || "/usr/bin:/bin",
    HOME: process.env.HOME || "/tmp",
    NODE_PATH: sdkModules(),
    ...exported,
    ...extra,
  };
}

function run(file, args, options) {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, ...options }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr, signal: error?.signal ?? null });
    });
  });
}

/**
 * Runs `programs/<program>` with `args` in a node whose environment is exactly `env`, and returns the JSON object
 * on the last line of its stdout. A program that exits non-zero or prints no JSON fails the test, with its output.
 */
async function runProgram(program, args, env) {
  const file = path.join(PROGRAMS_DIR, program);
  const done = await run(process.execPath, ["-r", LOOPBACK, file, ...args], {
    env,
    cwd: os.tmpdir(),
    timeout: PROGRAM_TIMEOUT_MS,
  });
  const lines = done.stdout.trim().split("\n");
  const describe = () => `${program} ${args.join(" ")}: exit ${done.code}\nstdout:\n${done.stdout}\nstderr:\n${done.stderr}`;
  if (done.code !== 0) throw new Error(`program failed: ${describe()}`);
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    throw new Error(`program printed no JSON report: ${describe()}`);
  }
}

/** Resolves with the JSON after `prefix` on the first stdout line that has it; copies every line to `logFile`. */
function readReadiness(child, prefix, logFile, what) {
  const log = fs.createWriteStream(logFile);
  const lines = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    let announced = false;
    const timer = setTimeout(() => {
      if (!announced) reject(new Error(`${what} printed no \`${prefix.trim()}\` line within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    lines.on("line", (line) => {
      log.write(`${line}\n`);
      if (!announced && line.startsWith(prefix)) {
        announced = true;
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line.slice(prefix.length)));
        } catch (error) {
          reject(new Error(`${what}'s readiness line is not JSON: ${error}`));
        }
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!announced) reject(new Error(`${what} exited (${code ?? signal}) before it was ready`));
    });
    lines.once("close", () => log.end());
  });
}

async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

class StrongroomServer {
  constructor(binary, root) {
    this.binary = binary;
    this.root = root;
    this.dataDir = path.join(root, "data");
    this.logDir = path.join(root, "logs");
    this.info = {};
    this.child = null;
  }

  /** A server on a fresh data directory under `root`, ready to serve. */
  static async start(root) {
    const server = new StrongroomServer(strongroomBinary(), root);
    fs.mkdirSync(server.dataDir, { recursive: true });
    fs.mkdirSync(server.logDir, { recursive: true });
    const env = { ...process.env };
    env.STRONGROOM_LOG = env.STRONGROOM_LOG || "info,strongroom=debug";
    delete env.STRONGROOM_DATA_DIR;
    const args = ["serve", "--data-dir", server.dataDir, "--listen", "127.0.0.1:0", "--dev-clock"];
    server.child = spawn(server.binary, args, { stdio: ["ignore", "pipe", "pipe"], env });
    server.child.stderr.pipe(fs.createWriteStream(path.join(server.logDir, "server-stderr.log")));
    try {
      server.info = await readReadiness(
        server.child,
        READY_PREFIX,
        path.join(server.logDir, "server-stdout.log"),
        "strongroom serve",
      );
    } catch (error) {
      await server.stop();
      throw new Error(`${error.message}\n${server.logTail()}`);
    }
    return server;
  }

  async stop() {
    await stopChild(this.child);
  }

  logTail(nBytes = 4000) {
    return ["server-stdout.log", "server-stderr.log"]
      .map((name) => path.join(this.logDir, name))
      .filter((file) => fs.existsSync(file))
      .map((file) => `--- ${path.basename(file)} (tail) ---\n${fs.readFileSync(file, "utf8").slice(-nBytes)}`)
      .join("\n");
  }

  get port() {
    return Number(this.info.port);
  }

  get domain() {
    return String(this.info.domain ?? "localhost");
  }

  get tenantId() {
    return String(this.info.tenantId);
  }

  get authorityHost() {
    return String(this.info.authorityHost);
  }

  get caFile() {
    return String(this.info.caFile);
  }

  /** The vault's URL in direct mode: `https://V.vault.DOMAIN:PORT`. */
  vaultUrl(vault) {
    return `https://${vault}.vault.${this.domain}:${this.port}`;
  }

  /** `strongroom --data-dir <data> …`: `{code, stdout, stderr}`. */
  async cli(...args) {
    return run(this.binary, ["--data-dir", this.dataDir, ...args], {
      env: { ...process.env, STRONGROOM_DATA_DIR: this.dataDir },
      timeout: CLI_TIMEOUT_MS,
    });
  }

  /** `strongroom …`, which must exit 0; its stdout. */
  async cliOk(...args) {
    const res = await this.cli(...args);
    if (res.code !== 0) {
      throw new Error(`\`strongroom ${args.join(" ")}\` exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    }
    return res.stdout;
  }

  /** `strongroom …`, which must exit 0 and print JSON. */
  async cliJson(...args) {
    return JSON.parse(await this.cliOk(...args));
  }

  /** `strongroom env …`, parsed. */
  async env(...args) {
    return parseEnvExports(await this.cliOk("env", ...args));
  }

  /** A new vault named `<prefix>-<10 hex>`: a prefix of 13 characters at most (vault names end at 24). */
  async createVault(prefix) {
    return (await this.cliJson("keyvault", "create", "--name", uniqueName(prefix))).name;
  }

  /** A vault holding one secret: `{vault, name, value}`. */
  async vaultWithSecret(prefix) {
    const vault = await this.createVault(prefix);
    const name = uniqueName("secret");
    const value = `value-of-${name}`;
    await this.cliJson("keyvault", "secret", "set", "--vault-name", vault, "--name", name, "--value", value);
    return { vault, name, value };
  }

  /** A user-assigned managed identity: `{name, clientId, principalId}`. */
  async createIdentity(prefix) {
    const created = await this.cliJson("identity", "create", "--name", uniqueName(prefix));
    return { name: created.name, clientId: created.clientId, principalId: created.principalId };
  }

  /** A service principal (`ad sp create-for-rbac`): `{appId, password}`. */
  async createServicePrincipal(prefix) {
    const sp = await this.cliJson("ad", "sp", "create-for-rbac", "--name", uniqueName(prefix));
    return { appId: sp.appId, password: sp.password };
  }

  /** `keyvault set-policy --name vault <who> --secret-permissions …`, `who` like `["--object-id", id]`. */
  async grantSecrets(vault, who, ...permissions) {
    await this.cliJson("keyvault", "set-policy", "--name", vault, ...who, "--secret-permissions", ...permissions);
  }
}

/** One `strongroom agent` process serving one managed identity (App Service protocol). */
class Agent {
  constructor(server, identity, root) {
    this.server = server;
    this.identity = identity;
    this.agentDir = path.join(root, "agent");
    this.arcKeyDir = path.join(root, "arc-keys");
    this.logFile = path.join(root, "agent.log");
    this.info = {};
    this.child = null;
  }

  static async start(server, identity, root) {
    const agent = new Agent(server, identity, root);
    fs.mkdirSync(root, { recursive: true });
    const args = [
      "--data-dir", server.dataDir, "agent",
      "--identity", identity.name, "--server", server.authorityHost,
      "--listen", "127.0.0.1:0", "--agent-dir", agent.agentDir, "--arc-key-dir", agent.arcKeyDir,
    ];
    const env = { ...process.env };
    env.STRONGROOM_LOG = env.STRONGROOM_LOG || "info,strongroom=debug";
    agent.child = spawn(server.binary, args, { stdio: ["ignore", "pipe", "pipe"], env });
    agent.child.stderr.pipe(fs.createWriteStream(agent.logFile));
    try {
      agent.info = await readReadiness(agent.child, AGENT_READY_PREFIX, `${agent.logFile}.stdout`, "strongroom agent");
    } catch (error) {
      await agent.stop();
      throw new Error(`${error.message}\n${fs.existsSync(agent.logFile) ? fs.readFileSync(agent.logFile, "utf8") : ""}`);
    }
    return agent;
  }

  async stop() {
    await stopChild(this.child);
  }

  get origin() {
    return `http://127.0.0.1:${this.info.port}`;
  }

  /** `strongroom env --agent --agent-dir <dir> …`, parsed. */
  async env(...extra) {
    return this.server.env("--agent", "--agent-dir", this.agentDir, ...extra);
  }
}

module.exports = {
  Agent,
  StrongroomServer,
  parseEnvExports,
  programEnv,
  runProgram,
  suiteRoot,
  uniqueName,
};
