import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort, tempDir } from "./process.js";

function mosquittoBinary(): string {
  for (const candidate of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"])
    if (existsSync(candidate)) return candidate;
  const found = spawnSync("sh", ["-c", "command -v mosquitto"], { encoding: "utf8" }).stdout.trim();
  if (!found) throw new Error("mosquitto not found: install it (CI does, with apt-get)");
  return found;
}

/**
 * Resolves once something accepts on the port, or false as soon as the child has exited (as
 * Mosquitto does when its port is taken). Bounded by a count of tries, not by the clock.
 */
async function listening(child: ChildProcess, port: number, tries = 800): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return child.exitCode === null;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`mosquitto did not listen on ${port} after ${tries} tries`);
}

export interface BrokerSecurity {
  /** Users that may connect; anonymous clients are refused when set. */
  readonly users?: Readonly<Record<string, string>>;
  /** Serve TLS with a CA and server certificate made for this run. */
  readonly tls?: boolean;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${result.stderr}`);
}

/** A CA and a server certificate for 127.0.0.1, signed by it. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, "ca.pem");
  const caKey = join(dir, "ca.key");
  const key = join(dir, "server.key");
  const csr = join(dir, "server.csr");
  const cert = join(dir, "server.pem");
  const ext = join(dir, "san.ext");
  writeFileSync(ext, "subjectAltName=IP:127.0.0.1\n");
  run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    caKey,
    "-out",
    ca,
    "-days",
    "2",
    "-subj",
    "/CN=test-ca",
  ]);
  run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    "/CN=127.0.0.1",
  ]);
  run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-out",
    cert,
    "-days",
    "2",
    "-extfile",
    ext,
  ]);
  chmodSync(key, 0o644);
  return { ca, cert, key };
}

/** A real Mosquitto of this test run's own, on a free port; it can be stopped and started again on that port. */
export class TestBroker {
  port = 0;
  readonly #dir = tempDir("mosquitto-");
  readonly #config = join(this.#dir, "mosquitto.conf");
  #child: ChildProcess | undefined;
  readonly #security: BrokerSecurity;
  /** The CA certificate clients must trust, when TLS is on. */
  caFile: string | undefined;

  constructor(security: BrokerSecurity = {}) {
    this.#security = security;
  }

  get url(): string {
    return `${this.#security.tls ? "mqtts" : "mqtt"}://127.0.0.1:${this.port}`;
  }

  #securityLines(): string[] {
    const lines: string[] = [];
    const { users, tls } = this.#security;
    if (users) {
      const file = join(this.#dir, "passwords");
      writeFileSync(file, "");
      for (const [user, password] of Object.entries(users))
        run("mosquitto_passwd", ["-b", file, user, password]);
      chmodSync(file, 0o644);
      lines.push(`password_file ${file}`);
    }
    if (tls) {
      const { ca, cert, key } = makeCertificates(this.#dir);
      this.caFile = ca;
      lines.push(`cafile ${ca}`, `certfile ${cert}`, `keyfile ${key}`);
    }
    return lines;
  }

  async start(): Promise<void> {
    // A port picked here may be taken before Mosquitto binds it; then it exits, and another is
    // tried. A port given by the test (a restart on the same port) is kept.
    const pick = this.port === 0;
    for (let attempt = 1; ; attempt++) {
      if (pick) this.port = await freePort();
      this.#child = this.#spawn();
      if (await listening(this.#child, this.port)) return;
      if (!pick || attempt === 5) throw new Error(`mosquitto exited instead of listening on ${this.port}`);
    }
  }

  #spawn(): ChildProcess {
    // Started as root, mosquitto drops to its own user, which must be able to write its database.
    chmodSync(this.#dir, 0o777);
    writeFileSync(
      this.#config,
      [
        `listener ${this.port} 127.0.0.1`,
        `allow_anonymous ${this.#security.users ? "false" : "true"}`,
        "set_tcp_nodelay true",
        ...this.#securityLines(),
        // Sessions and retained messages survive a restart, as on a production broker.
        "persistence true",
        `persistence_location ${this.#dir}/`,
        "autosave_interval 0",
        "max_queued_messages 100000",
        "log_type error",
        "",
      ].join("\n"),
    );
    return spawn(mosquittoBinary(), ["-c", this.#config], { stdio: "ignore" });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}
