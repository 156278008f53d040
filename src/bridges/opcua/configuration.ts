import { DataType, type UAObject, type Variant, VariantArrayType } from "node-opcua";
import { CameraError } from "../../camera/index.js";
import { bindMethod, type Handler } from "./methods.js";
import type { Level } from "./permissions.js";
import type { Structures } from "./structures.js";
import type { RunCommand } from "./vision-system.js";

export interface ConfigurationOptions {
  readonly run: RunCommand;
  readonly structures: Structures;
  readonly mv: number;
}

/** The camera's jobs are the configurations; InternalId is the slot, ExternalId the name. */
export function bindConfiguration(configuration: UAObject, options: ConfigurationOptions): void {
  const { run, structures, mv } = options;
  const bind = (name: string, level: Level, handler: Handler) =>
    bindMethod(configuration, mv, name, level, handler);
  const ok = [{ dataType: DataType.Int32, value: 0 }];
  const slotOf = (input: Variant | undefined) => {
    const slot = Number((input?.value as { id?: unknown } | null)?.id);
    if (!Number.isInteger(slot) || slot < 0)
      throw new CameraError("BAD_REQUEST", "InternalId.Id must be a job slot number");
    return slot;
  };
  const listed = async () =>
    (await run("jobs", {})).jobs.map((entry) => ({
      slot: entry.slot,
      value: structures.configuration(entry.name, String(entry.slot)),
    }));
  bind("GetConfigurationList", "operator", async () => {
    const list = (await listed()).map((entry) => entry.value);
    return [
      { dataType: DataType.Boolean, value: true },
      { dataType: DataType.UInt32, value: list.length },
      { dataType: DataType.UInt32, value: 0 },
      { dataType: DataType.ExtensionObject, arrayType: VariantArrayType.Array, value: list },
      ...ok,
    ];
  });
  bind("GetConfigurationById", "operator", async (inputs) => {
    const slot = slotOf(inputs[0]);
    const found = (await listed()).find((entry) => entry.slot === slot);
    if (!found) throw new CameraError("NOT_FOUND", `no job in slot ${slot}`);
    // Handle 0: no file transfer goes with it (jobs move by FTP), so there is nothing to release.
    return [
      { dataType: DataType.UInt32, value: 0 },
      { dataType: DataType.ExtensionObject, value: found.value },
      ...ok,
    ];
  });
  bind("ActivateConfiguration", "engineer", async (inputs) => {
    await run("selectJob", { slot: slotOf(inputs[0]) });
    return ok;
  });
}
