import { Command } from "commander";
import { payloadJsonSchemas } from "./bridges/mqtt/payloads.js";
import { announceCheck } from "./camera/announce-check.js";
import { runSimulator } from "./camera/simulator/command.js";
import { parseSimulateOptions } from "./camera/simulator/options.js";
import { ConfigError, EXIT_CONFIG } from "./config/errors.js";
import { configJsonSchema } from "./config/json-schema.js";
import { loadConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { createLogger } from "./daemon/logger.js";
import { runDaemon } from "./daemon/run.js";
import { hashPassword } from "./lib/passwords.js";
import { packageVersion } from "./lib/version.js";

/**
 * Splits what commander left over into operands and config-key flags (`--http.port 9000` or
 * `--http.port=9000`); the flags go to the config loader, which rejects unknown keys.
 */
export function splitArgs(args: readonly string[]): { operands: string[]; flags: string[] } {
  const operands: string[] = [];
  const flags: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (!arg.startsWith("--")) {
      operands.push(arg);
      continue;
    }
    flags.push(arg);
    const value = args[index + 1];
    if (!arg.includes("=") && value !== undefined && !value.startsWith("--")) {
      flags.push(value);
      index++;
    }
  }
  return { operands, flags };
}

function fail(message: string, code: number): void {
  process.stderr.write(`smartcam-bridge: ${message}\n`);
  process.exitCode = code;
}

export function main(argv: readonly string[]): void {
  const program = new Command("smartcam-bridge")
    .description("Bridges industrial smart cameras to MQTT and OPC UA")
    .version(packageVersion(), "-V, --version")
    .showHelpAfterError();

  program
    .command("run")
    .description("run the daemon (config keys can be set as flags: --http.port 9000)")
    .option("-c, --config <file>", "config file (YAML or JSON)")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (options: { config?: string }, command: Command) => {
      const { operands, flags } = splitArgs(command.args);
      if (operands.length > 0) return fail(`unexpected argument: ${operands[0]}`, EXIT_CONFIG);
      const code = await runDaemon({ file: options.config, env: process.env, args: flags });
      process.exit(code);
    });

  program
    .command("check-config")
    .description("validate a config and print the effective config with secrets redacted (exit 0 or 78)")
    .argument("[file]", "config file (YAML or JSON)")
    .allowUnknownOption()
    .allowExcessArguments()
    .option(
      "--announce <json>",
      'instead: what the daemon would run for this announce, as {"name","serial","ip","model"}',
    )
    .action((_file: unknown, options: { announce?: string }, command: Command) => {
      const { operands, flags } = splitArgs(command.args);
      if (operands.length > 1) return fail(`unexpected argument: ${operands[1]}`, EXIT_CONFIG);
      try {
        const config = loadConfig({ file: operands[0], env: process.env, args: flags });
        const shown = options.announce === undefined ? config : announceCheck(config, options.announce);
        process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        fail(error.message, EXIT_CONFIG);
      }
    });

  program
    .command("simulate")
    .description("run simulated cameras that speak the camera wire profile on loopback")
    .option("--cameras <n>", "how many", "3")
    .option("--seed <n>", "seed: the same seed gives the same cameras and data", "1")
    .option("--rate <hz>", "inspection cycles per second per camera", "2")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option(
      "--base-port <port>",
      "camera i listens on base-port + 20*i and the next 11 ports (the last four: formatted output)",
      "21000",
    )
    .option("--password <password>", "what the cameras accept for LOGIN", "simulator")
    .option("--announce <host:port>", "where to send ANNOUNCE datagrams", "127.0.0.1:49495")
    .option("--no-announce", "send no announces")
    .action(async (options: Record<string, string | false>) => {
      const parsed = parseSimulateOptions(options);
      if (typeof parsed === "string") return fail(parsed, EXIT_CONFIG);
      process.exit(await runSimulator(parsed, createLogger("info")));
    });

  program
    .command("opcua-trust")
    .description(
      "list the OPC UA client certificates, accept or reject one by thumbprint, or renew the server's own",
    )
    .argument("<action>", "list | accept | reject | renew")
    .argument("[thumbprint]", "hex SHA-1 thumbprint, or its first 8 digits or more, as 'list' shows it")
    .option("-c, --config <file>", "config file: where the PKI folder is")
    .action(async (action: string, thumbprint: string | undefined, options: { config?: string }) => {
      // node-opcua is large: only the commands that need it load it.
      const { pkiDirectory } = await import("./bridges/opcua/server.js");
      const { listCertificates, renewServerCertificate, setTrust } = await import("./bridges/opcua/trust.js");
      let pki: string;
      let opcua: Config["opcua"];
      try {
        const config = loadConfig({ file: options.config, env: process.env, args: [] });
        opcua = config.opcua;
        pki = pkiDirectory(config.opcua, config.daemon.stateDirectory);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return fail(error.message, EXIT_CONFIG);
      }
      if (action === "renew") {
        const made = await renewServerCertificate(pki, opcua);
        process.stdout.write(
          `renewed ${made.thumbprint} ${made.file}\nrestart the daemon to serve it; clients that trusted the old one must trust this one\n`,
        );
        return;
      }
      if (action === "list") {
        for (const entry of listCertificates(pki))
          process.stdout.write(`${entry.status.padEnd(9)} ${entry.thumbprint} ${entry.file}\n`);
        return;
      }
      if ((action !== "accept" && action !== "reject") || !thumbprint)
        return fail("usage: opcua-trust list | accept <thumbprint> | reject <thumbprint> | renew", 2);
      try {
        const entry = await setTrust(pki, thumbprint, action === "accept");
        process.stdout.write(`${action === "accept" ? "trusted" : "rejected"} ${entry.thumbprint}\n`);
      } catch (error) {
        fail(error instanceof Error ? error.message : String(error), 1);
      }
    });

  program
    .command("opcua-hash-password")
    .description("read a password on stdin and print the hash to put in opcua.users[].passwordHash")
    .action(async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const password = Buffer.concat(chunks)
        .toString("utf8")
        .replace(/\r?\n$/, "");
      if (password.length === 0) return fail("no password on stdin", 2);
      process.stdout.write(`${await hashPassword(password)}\n`);
    });

  program
    .command("mqtt-schema")
    .description("print the JSON Schemas of the MQTT payloads")
    .action(() => {
      process.stdout.write(`${JSON.stringify(payloadJsonSchemas(), null, 2)}\n`);
    });

  program
    .command("config-schema")
    .description("print the JSON Schema of the config file")
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });

  program.parseAsync([...argv]).catch((error: unknown) => {
    process.stderr.write(`smartcam-bridge: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
