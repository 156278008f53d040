import type { CameraHub } from "../camera/index.js";
import type { Config } from "../config/schema.js";

/**
 * The commands a camera accepts from any northbound output: its own list in
 * mqtt.commands.perCamera, else its discovery rule's, else mqtt.commands.allow.
 */
export function allowedCommands(
  commands: Config["mqtt"]["commands"],
  hub: Pick<CameraHub, "commandsOf">,
  camera: string,
): readonly string[] {
  return commands.perCamera[camera] ?? hub.commandsOf(camera) ?? commands.allow;
}
