import type { AddressSpace, ExtensionObject, UADataType } from "node-opcua";

const NAMES = [
  "ResultIdDataType",
  "JobIdDataType",
  "RecipeIdInternalDataType",
  "ConfigurationIdDataType",
  "ConfigurationDataType",
] as const;
export type StructureName = (typeof NAMES)[number];

/**
 * Builds the Machine Vision structures by name. The data types are looked up once, when the server
 * starts, not per report.
 */
export class Structures {
  readonly #space: AddressSpace;
  readonly #types: ReadonlyMap<StructureName, UADataType>;

  constructor(space: AddressSpace, machineVision: number) {
    this.#space = space;
    this.#types = new Map(
      NAMES.map((name) => {
        const type = space.findDataType(name, machineVision);
        if (!type) throw new Error(`${name} missing from the Machine Vision nodeset`);
        return [name, type] as const;
      }),
    );
  }

  make(name: StructureName, value: Record<string, unknown>): ExtensionObject {
    return this.#space.constructExtensionObject(this.#types.get(name) as UADataType, value);
  }

  /** A ConfigurationDataType: the camera's jobs are the vision system's configurations. */
  configuration(external: string, internal: string): ExtensionObject {
    return this.make("ConfigurationDataType", {
      hasTransferableDataOnFile: false,
      externalId: this.make("ConfigurationIdDataType", { id: external }),
      internalId: this.make("ConfigurationIdDataType", { id: internal }),
      lastModified: new Date(0),
    });
  }
}
