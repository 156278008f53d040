/** Polls `check` every `everyMs` until it holds; fails after `timeoutMs`, naming `what`. */
export async function until(
  check: () => boolean,
  timeoutMs = 5_000,
  what = "condition",
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
