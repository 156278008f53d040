import {
  type AddressSpace,
  DataType,
  type ISessionContext,
  type Namespace,
  promoteToStateMachine,
  StatusCodes,
  type TransitionSelector,
  type UAMethod,
  type UAObject,
  type UAStateMachineEx,
  type UAVariable,
  Variant,
  VariantArrayType,
} from "node-opcua";
import {
  CameraError,
  type CameraState,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type Report,
} from "../../camera/index.js";
import { type Level, readOnlySubtree, restrictCall } from "./permissions.js";
import { statusOf } from "./status.js";
import type { StructureName, Structures } from "./structures.js";
import { fromDatum } from "./values.js";

export type RunCommand = <N extends CommandName>(name: N, args: CommandArgs<N>) => Promise<CommandResult<N>>;

export interface VisionSystemOptions {
  readonly space: AddressSpace;
  readonly own: Namespace;
  readonly mv: number;
  readonly parent: UAObject;
  readonly cameraId: string;
  readonly run: RunCommand;
  readonly structures: Structures;
}

/** The identification a SCADA engineer looks for, as properties named after OPC 10000-100. */
const IDENTIFICATION = [
  ["Manufacturer", "model"],
  ["Model", "model"],
  ["SerialNumber", "serial"],
  ["SoftwareRevision", "version"],
  ["DeviceName", "name"],
  ["Address", "address"],
  ["MacAddress", "mac"],
] as const;

/** The camera changes state on its own: the model's "...Auto" transition says so, where there is one. */
const automatic: TransitionSelector = (transitions) =>
  transitions.find((transition) => transition.browseName.name?.endsWith("Auto")) ?? transitions[0] ?? null;

function moveTo(machine: UAStateMachineEx, state: string): void {
  if (machine.getCurrentState()?.endsWith(`:${state}`)) return;
  machine.setState(state, automatic);
}

/** One camera as an OPC 40100 VisionSystemType instance: state machine, methods, ResultReady events. */
export class VisionSystem {
  readonly node: UAObject;
  readonly #options: VisionSystemOptions;
  readonly #state: UAStateMachineEx;
  readonly #auto: UAStateMachineEx;
  readonly #identity = new Map<string, UAVariable>();
  readonly #activeConfiguration: UAVariable | undefined;
  readonly #resultReady;
  #job: string | undefined;

  constructor(options: VisionSystemOptions) {
    this.#options = options;
    const { space, own, mv, parent, cameraId } = options;
    const type = space.findObjectType("VisionSystemType", mv);
    if (!type) throw new Error("the Machine Vision nodeset is not loaded");
    this.node = type.instantiate({
      browseName: cameraId,
      // HasNotifier alone: it is hierarchical, so a browse lists the camera once, and events
      // raised on it reach the VisionSystems folder and the Server object.
      notifierOf: parent,
      nodeId: `s=${cameraId}.VisionSystem`,
      optionals: [
        "VisionStateMachine.AutomaticModeStateMachine",
        "VisionStateMachine.SelectModeAutomatic",
        "ConfigurationManagement",
      ],
      eventNotifier: 1,
    });
    const machine = this.node.getComponentByName("VisionStateMachine", mv) as UAObject;
    const auto = machine.getComponentByName("AutomaticModeStateMachine", mv) as UAObject;
    this.#state = promoteToStateMachine(machine);
    this.#auto = promoteToStateMachine(auto);
    const resultReady = space.findEventType("ResultReadyEventType", mv);
    if (!resultReady) throw new Error("ResultReadyEventType missing from the Machine Vision nodeset");
    this.#resultReady = resultReady;

    const identification = own.addObject({
      componentOf: this.node,
      browseName: "Identification",
      nodeId: `s=${cameraId}.VisionSystem.Identification`,
    });
    for (const [name] of IDENTIFICATION)
      this.#identity.set(
        name,
        own.addVariable({
          propertyOf: identification,
          browseName: name,
          nodeId: `s=${cameraId}.VisionSystem.Identification.${name}`,
          dataType: "String",
          value: { dataType: DataType.String, value: "" },
        }),
      );

    const configuration = this.node.getComponentByName("ConfigurationManagement", mv) as UAObject;
    this.#activeConfiguration = configuration.getComponentByName("ActiveConfiguration", mv) as UAVariable;
    this.#bindMethods(machine, auto, configuration);
    // Identification, ActiveConfiguration and every state variable are the camera's to say.
    readOnlySubtree(this.node);
    moveTo(this.#state, "Preoperational");
  }

  update(state: CameraState): void {
    for (const [name, key] of IDENTIFICATION) {
      const value = state[key];
      this.#identity.get(name)?.setValueFromSource({ dataType: DataType.String, value: value ?? "" });
    }
    if (state.job !== this.#job) {
      this.#job = state.job;
      this.#activeConfiguration?.setValueFromSource({
        dataType: DataType.ExtensionObject,
        value: this.#options.structures.configuration(state.job, state.job),
      });
    }
    if (state.availability !== "online" || state.status === "unknown") {
      moveTo(this.#state, "Preoperational");
      return;
    }
    if (state.status === "error") {
      moveTo(this.#state, "Error");
      return;
    }
    moveTo(this.#state, "Operational");
    moveTo(this.#auto, state.status === "running" ? "ContinuousExecution" : "Ready");
  }

  /** ResultReady per report: the same id as on MQTT, the camera's time, every datum in ResultContent. */
  resultReady(report: Report): void {
    const { structures } = this.#options;
    const id = (name: StructureName, value: string) =>
      new Variant({ dataType: DataType.ExtensionObject, value: structures.make(name, { id: value }) });
    const content = Object.values(report.results).map((datum) => {
      const typed = fromDatum(datum);
      return new Variant({ dataType: typed.dataType, value: typed.value });
    });
    this.node.raiseEvent(this.#resultReady, {
      sourceName: { dataType: DataType.String, value: report.cameraId },
      message: {
        dataType: DataType.LocalizedText,
        value: { text: `${report.passed ? "passed" : "failed"} cycle ${report.cycle}` },
      },
      resultId: id("ResultIdDataType", report.id),
      jobId: id("JobIdDataType", String(report.cycle)),
      internalRecipeId: id("RecipeIdInternalDataType", String(report.inspection)),
      internalConfigurationId: id("ConfigurationIdDataType", this.#job ?? ""),
      isPartial: { dataType: DataType.Boolean, value: false },
      // OPC 40100 12.19: 1 Completed, 4 Failed; the inspection verdict maps onto them.
      resultState: { dataType: DataType.Int32, value: report.passed ? 1 : 4 },
      creationTime: { dataType: DataType.DateTime, value: new Date(report.time) },
      resultContent: { dataType: DataType.Variant, arrayType: VariantArrayType.Array, value: content },
    });
  }

  #bindMethods(machine: UAObject, auto: UAObject, configuration: UAObject): void {
    const { run, structures } = this.#options;
    const ok = [{ dataType: DataType.Int32, value: 0 }];
    const job = (id: string) => ({
      dataType: DataType.ExtensionObject,
      value: structures.make("JobIdDataType", { id }),
    });
    this.#bind(auto, "StartSingleJob", "operator", async () => {
      const { cycle } = await run("trigger", {});
      return [job(String(cycle)), ...ok];
    });
    this.#bind(auto, "StartContinuous", "operator", async () => {
      await run("start", {});
      return [job("continuous"), ...ok];
    });
    for (const name of ["Stop", "Abort"])
      this.#bind(auto, name, "operator", async () => {
        await run("stop", {});
        return ok;
      });
    this.#bind(machine, "Halt", "operator", async () => {
      await run("stop", {});
      return ok;
    });
    // The camera's way back from an error is a restart; only an engineer may ask for it.
    this.#bind(machine, "Reset", "engineer", async () => {
      await run("reboot", {});
      return ok;
    });
    // A smart camera is always in automatic mode: this only checks that it answers.
    this.#bind(machine, "SelectModeAutomatic", "operator", async () => {
      await run("status", {});
      return ok;
    });
    this.#bind(configuration, "GetConfigurationList", "operator", async () => {
      const { jobs } = await run("jobs", {});
      const list = jobs.map((entry) => structures.configuration(entry.name, String(entry.slot)));
      return [
        { dataType: DataType.Boolean, value: true },
        { dataType: DataType.UInt32, value: list.length },
        { dataType: DataType.UInt32, value: 0 },
        { dataType: DataType.ExtensionObject, arrayType: VariantArrayType.Array, value: list },
        ...ok,
      ];
    });
    this.#bind(configuration, "ActivateConfiguration", "engineer", async (inputs) => {
      const slot = Number((inputs[0]?.value as { id?: unknown } | null)?.id);
      if (!Number.isInteger(slot) || slot < 0)
        throw new CameraError("BAD_REQUEST", "InternalId.Id must be a job slot number");
      await run("selectJob", { slot });
      return ok;
    });
  }

  #bind(
    owner: UAObject,
    name: string,
    level: Level,
    handler: (inputs: Variant[], context: ISessionContext) => Promise<unknown[]>,
  ): void {
    const method = owner.getMethodByName(name, this.#options.mv) as UAMethod | null;
    if (!method) throw new Error(`${name} missing from the Machine Vision model`);
    restrictCall(method, level);
    method.bindMethod(async (inputs: Variant[], context: ISessionContext) => {
      try {
        const outputs = await handler(inputs, context);
        return {
          statusCode: StatusCodes.Good,
          outputArguments: outputs.map((output) => new Variant(output as never)),
        };
      } catch (error) {
        return { statusCode: statusOf(error) };
      }
    });
  }
}
