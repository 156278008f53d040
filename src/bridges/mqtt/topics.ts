/** Topic levels must not hold wildcards, separators or NUL (MQTT forbids it): those become "_". */
export function topicLevel(value: string): string {
  const clean = value.replace(/[+#/]/g, "_").replaceAll(String.fromCharCode(0), "_");
  return clean.length > 0 ? clean : "_";
}

export class Topics {
  readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  bridgeState = () => `${this.base}/bridge/state`;
  bridgeInfo = () => `${this.base}/bridge/info`;
  bridgeRequests = () => `${this.base}/bridge/request/+`;
  bridgeResponse = (name: string) => `${this.base}/bridge/response/${topicLevel(name)}`;
  availability = (camera: string) => `${this.base}/${topicLevel(camera)}/availability`;
  state = (camera: string) => `${this.base}/${topicLevel(camera)}/state`;
  io = (camera: string, point: string) => `${this.base}/${topicLevel(camera)}/io/${topicLevel(point)}`;
  report = (camera: string, inspection: number) => `${this.base}/${topicLevel(camera)}/report/${inspection}`;
  gap = (camera: string, inspection: number) => `${this.base}/${topicLevel(camera)}/gap/${inspection}`;
  serial = (camera: string, port: number) => `${this.base}/${topicLevel(camera)}/serial/${port}`;
  image = (camera: string, source: string) =>
    `${this.base}/${topicLevel(camera)}/image/${topicLevel(source)}`;
  imageMeta = (camera: string, source: string) => `${this.image(camera, source)}/meta`;
  commands = () => `${this.base}/+/command/+`;

  /** The camera and command of a command topic, or undefined for any other topic. */
  parseCommand(topic: string): { camera: string; command: string } | undefined {
    const prefix = `${this.base}/`;
    if (!topic.startsWith(prefix)) return undefined;
    const parts = topic.slice(prefix.length).split("/");
    if (parts.length !== 3 || parts[1] !== "command" || parts[0] === "bridge") return undefined;
    return { camera: parts[0] as string, command: parts[2] as string };
  }

  parseBridgeRequest(topic: string): string | undefined {
    const prefix = `${this.base}/bridge/request/`;
    if (!topic.startsWith(prefix)) return undefined;
    const name = topic.slice(prefix.length);
    return name.includes("/") ? undefined : name;
  }
}
