import type { Logger } from "../logger.js";

/** The sd_notify(3) protocol: newline-separated KEY=VALUE assignments in one datagram. */
export interface Notifier {
  readonly enabled: boolean;
  send(assignments: Readonly<Record<string, string>>): void;
  close(): void;
}

const disabled: Notifier = { enabled: false, send: () => undefined, close: () => undefined };

export function formatNotification(assignments: Readonly<Record<string, string>>): Buffer {
  // A newline inside a value would start a new assignment; systemd shows STATUS on one line anyway.
  const lines = Object.entries(assignments).map(([key, value]) => `${key}=${value.replace(/[\r\n]+/g, " ")}`);
  return Buffer.from(`${lines.join("\n")}\n`);
}

/**
 * Talks to $NOTIFY_SOCKET when systemd set it, and is silent otherwise. Node's dgram has no Unix
 * datagram sockets, so this uses the unix-dgram addon, loaded only when there is a socket to talk to.
 */
export async function openNotifier(
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<Notifier> {
  const path = env.NOTIFY_SOCKET;
  if (!path) return disabled;
  if (path.startsWith("@")) {
    logger.error(
      { path },
      "NOTIFY_SOCKET in the abstract namespace is not supported; systemd will not see READY",
    );
    return disabled;
  }
  let createSocket: typeof import("unix-dgram").createSocket;
  try {
    ({ createSocket } = await import("unix-dgram"));
  } catch (error) {
    logger.error({ err: error }, "unix-dgram addon unavailable; systemd notifications are off");
    return disabled;
  }
  const socket = createSocket("unix_dgram");
  let reportedError = false;
  socket.on("error", (error: Error) => {
    // Once per socket: a vanished notify socket must not flood the log at every watchdog ping.
    if (!reportedError) logger.warn({ err: error, path }, "cannot notify systemd");
    reportedError = true;
  });
  let open = true;
  return {
    enabled: true,
    send(assignments) {
      if (!open) return;
      const message = formatNotification(assignments);
      socket.send(message, 0, message.length, path);
    },
    close() {
      if (open) socket.close();
      open = false;
    },
  };
}
