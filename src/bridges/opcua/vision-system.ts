import {
  type AddressSpace,
  DataType,
  type Namespace,
  promoteToStateMachine,
  StatusCodes,
  type TransitionSelector,
  type UAObject,
  type UAStateMachineEx,
  type UAVariable,
  Variant,
  VariantArrayType,
} from "node-opcua";
import type { CameraState, CommandArgs, CommandName, CommandResult, Report } from "../../camera/index.js";
import { bindConfiguration } from "./configuration.js";
import { bindMethod, type Handler, Refused } from "./methods.js";
import type { CameraModel } from "./model-store.js";
import { Nameplate } from "./nameplate.js";
import { type Level, readOnlySubtree } from "./permissions.js";
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
  /** The nameplate as an earlier run heard it, until the camera says it again. */
  readonly identity?: CameraModel["identity"] | undefined;
}

/** The camera changes state on its own: the model's "...Auto" transition says so, where there is one. */
const automatic: TransitionSelector = (transitions) =>
  transitions.find((transition) => transition.browseName.name?.endsWith("Auto")) ?? transitions[0] ?? null;

/** A client's method moved it: the transition without "Auto". */
const byMethod: TransitionSelector = (transitions) =>
  transitions.find((transition) => !transition.browseName.name?.endsWith("Auto")) ?? transitions[0] ?? null;

function moveTo(machine: UAStateMachineEx, state: string, selector = automatic): void {
  if (machine.getCurrentState()?.endsWith(`:${state}`)) return;
  machine.setState(state, selector);
}

/** One camera as an OPC 40100 VisionSystemType instance: state machine, methods, ResultReady events. */
export class VisionSystem {
  readonly node: UAObject;
  readonly #options: VisionSystemOptions;
  readonly #state: UAStateMachineEx;
  readonly #auto: UAStateMachineEx;
  readonly #nameplate: Nameplate;
  readonly #notifiers: readonly UAObject[];
  readonly #activeConfiguration: UAVariable | undefined;
  readonly #resultReady;
  #camera: CameraState | undefined;
  #halted = false;

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

    // Where ResultReady is raised and where it bubbles up to: a client monitors one of these.
    this.#notifiers = [this.node, parent, space.rootFolder.objects.server];
    this.#nameplate = new Nameplate(space, own, this.node, `s=${cameraId}.VisionSystem.Identification`);
    this.#nameplate.update(options.identity ?? {});

    const configuration = this.node.getComponentByName("ConfigurationManagement", mv) as UAObject;
    this.#activeConfiguration = configuration.getComponentByName("ActiveConfiguration", mv) as UAVariable;
    this.#bindMethods(machine, auto, configuration);
    // Identification, ActiveConfiguration and every state variable are the camera's to say.
    readOnlySubtree(this.node);
    moveTo(this.#state, "Preoperational");
  }

  update(state: CameraState): void {
    const before = this.#camera;
    this.#camera = state;
    this.#nameplate.update(state);
    if (!before || state.job !== before.job || state.slot !== before.slot) {
      // InternalId is the slot, what ActivateConfiguration takes: a client may pass it straight back.
      this.#activeConfiguration?.setValueFromSource({
        dataType: DataType.ExtensionObject,
        value: this.#options.structures.configuration(
          state.job,
          state.slot === undefined ? "" : String(state.slot),
        ),
      });
    }
    // Halted is the client's word: it holds until Reset, whatever the camera does meanwhile.
    if (this.#halted) return;
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
    // Building an event is most of a report's OPC UA cost: none is built that no client receives.
    if (!this.#notifiers.some((node) => node.listenerCount("event") > 0)) return;
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
      internalConfigurationId: id("ConfigurationIdDataType", this.#camera?.job ?? ""),
      isPartial: { dataType: DataType.Boolean, value: false },
      // OPC 40100 12.19: 1 Completed, 4 Failed; the inspection verdict maps onto them.
      resultState: { dataType: DataType.Int32, value: report.passed ? 1 : 4 },
      creationTime: { dataType: DataType.DateTime, value: new Date(report.time) },
      resultContent: { dataType: DataType.Variant, arrayType: VariantArrayType.Array, value: content },
    });
  }

  #bindMethods(machine: UAObject, auto: UAObject, configuration: UAObject): void {
    const { run, structures, mv } = this.#options;
    const bind = (owner: UAObject, name: string, level: Level, handler: Handler) =>
      bindMethod(owner, mv, name, level, handler);
    const ok = [{ dataType: DataType.Int32, value: 0 }];
    const job = (id: string) => ({
      dataType: DataType.ExtensionObject,
      value: structures.make("JobIdDataType", { id }),
    });
    bind(auto, "StartSingleJob", "operator", async () => {
      this.#expectAuto("Ready", "StartSingleJob");
      const { cycle } = await run("trigger", {});
      return [job(String(cycle)), ...ok];
    });
    bind(auto, "StartContinuous", "operator", async () => {
      this.#expectAuto("Ready", "StartContinuous");
      await run("start", {});
      return [job("continuous"), ...ok];
    });
    for (const name of ["Stop", "Abort"])
      bind(auto, name, "operator", async () => {
        await run("stop", {});
        return ok;
      });
    bind(machine, "Halt", "operator", async () => {
      if (this.#halted) throw new Refused(StatusCodes.BadInvalidState, "already Halted");
      if (this.#camera?.status === "running") await run("stop", {});
      this.#halted = true;
      moveTo(this.#state, "Halted", byMethod);
      return ok;
    });
    bind(machine, "Reset", "engineer", async () => {
      if (this.#halted) {
        this.#halted = false;
        moveTo(this.#state, "Preoperational", byMethod);
        if (this.#camera) this.update(this.#camera);
        return ok;
      }
      // The camera's way back from an error is a restart.
      if (this.#camera?.status !== "error")
        throw new Refused(StatusCodes.BadInvalidState, "Reset leaves Error or Halted only");
      await run("reboot", {});
      return ok;
    });
    // A smart camera is always in automatic mode: this only checks that it answers.
    bind(machine, "SelectModeAutomatic", "operator", async () => {
      await run("status", {});
      return ok;
    });
    bindConfiguration(configuration, this.#options);
  }

  /** StartSingleJob and StartContinuous act from Operational/Ready only, as OPC 40100 has it. */
  #expectAuto(state: string, method: string): void {
    const name = (machine: UAStateMachineEx) => machine.getCurrentState()?.split(":").at(-1) ?? "";
    const where =
      name(this.#state) !== "Operational"
        ? name(this.#state)
        : this.#camera?.status === "running"
          ? "ContinuousExecution"
          : name(this.#auto);
    if (where !== state)
      throw new Refused(
        StatusCodes.BadInvalidState,
        `${method} needs ${state}; the vision system is in ${where}`,
      );
  }
}
