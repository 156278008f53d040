import { resolve } from "node:path";
import { ConfigError, EXIT_CONFIG } from "../config/errors.js";
import { type ConfigSources, loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { Daemon } from "./daemon.js";
import { captureConsole, createLogger, type Logger } from "./logger.js";
import { openNotifier } from "./notify/sd-notify.js";
import { serviceSpecs } from "./services.js";

const EXIT_OK = 0;
const EXIT_FAILURE = 1;

function reportConfigError(error: ConfigError, stderr: NodeJS.WritableStream): void {
  stderr.write(`smartcam-bridge: ${error.message}\n`);
  createLogger("fatal").fatal({ issues: error.issues }, "invalid configuration; nothing started");
}

/**
 * The `run` command: loads the config once, starts the daemon, and lives until SIGTERM or SIGINT.
 * SIGHUP reloads the config from the same sources. Resolves with the process exit code.
 */
export async function runDaemon(
  sources: ConfigSources,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(sources);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(error, stderr);
    return EXIT_CONFIG;
  }

  const logger = createLogger(config.log.level);
  const restoreConsole = captureConsole(logger);
  const notifier = await openNotifier(sources.env, logger);
  const daemon = new Daemon({
    config,
    logger,
    notifier,
    specs: serviceSpecs(),
    env: sources.env,
    configFile: sources.file === undefined ? undefined : resolve(sources.file),
  });
  // Signal handlers do not keep Node alive; a daemon with every service off must still wait for one.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  let settle: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    settle = resolve;
  });

  const fatal = (error: unknown, origin: string) => {
    logger.fatal(
      { err: error, origin },
      "uncaught error; exiting so that the service manager restarts the daemon",
    );
    notifier.send({ STOPPING: "1", STATUS: "crashed" });
    process.exit(EXIT_FAILURE);
  };
  const onUncaught = (error: Error) => fatal(error, "uncaughtException");
  const onRejection = (reason: unknown) => fatal(reason, "unhandledRejection");
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onRejection);

  let stopping = false;
  const onStop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second stop signal: exiting at once");
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    logger.info({ signal }, "stopping");
    // If a stop() ignores its deadline, the process still leaves shortly after it.
    setTimeout(() => {
      logger.error("stop overran its deadline; exiting");
      process.exit(EXIT_FAILURE);
    }, daemon.config.daemon.stopTimeoutMs + 1_000).unref();
    daemon.stop().then(
      (result) => settle(result.timedOut.length + result.failed.length === 0 ? EXIT_OK : EXIT_FAILURE),
      (error: unknown) => {
        logger.error({ err: error }, "stop failed");
        settle(EXIT_FAILURE);
      },
    );
  };

  let reloading = Promise.resolve();
  const onReload = () => {
    reloading = reloading.then(() => reload(sources, daemon, logger));
  };

  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  process.on("SIGHUP", onReload);
  try {
    await daemon.start();
  } catch (error) {
    logger.fatal({ err: error }, "start failed");
    settle(EXIT_FAILURE);
  }
  const code = await finished;
  process.off("SIGTERM", onStop);
  process.off("SIGINT", onStop);
  process.off("SIGHUP", onReload);
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onRejection);
  clearInterval(keepAlive);
  notifier.close();
  logger.info({ exitCode: code }, "stopped");
  restoreConsole();
  return code;
}

async function reload(sources: ConfigSources, daemon: Daemon, logger: Logger): Promise<void> {
  let next: Config;
  try {
    next = loadConfig(sources);
  } catch (error) {
    daemon.countRefusedReload();
    const issues =
      error instanceof ConfigError ? error.issues : [{ path: "(config)", message: String(error) }];
    logger.error({ issues }, "reload refused: the new configuration is invalid; the running one stays");
    return;
  }
  try {
    await daemon.reload(next);
  } catch (error) {
    logger.error({ err: error }, "reload failed while applying");
  }
}
