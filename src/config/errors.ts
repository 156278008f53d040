/** sysexits.h EX_CONFIG: systemd's RestartPreventExitStatus= keeps a bad config from restart loops. */
export const EXIT_CONFIG = 78;

export interface ConfigIssue {
  /** The dotted key path, the file, the environment variable or the flag at fault. */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(`invalid configuration:\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}
