import {
  type AddressSpace,
  DataType,
  implementInterface,
  LocalizedText,
  type Namespace,
  StatusCodes,
  type UAObject,
  type UAVariable,
  Variant,
} from "node-opcua";
import { DI_URI } from "./server.js";

/** The DI nameplate properties (IVendorNameplateType) the cameras can fill, and from what. */
const NAMEPLATE = [
  ["Manufacturer", "manufacturer", DataType.LocalizedText],
  ["Model", "model", DataType.LocalizedText],
  ["SerialNumber", "serial", DataType.String],
  ["SoftwareRevision", "version", DataType.String],
] as const;

/** What DI has no property for, in the bridge's own namespace beside the nameplate. */
const OWN = [
  ["DeviceName", "name", "the name the camera announces; it may change (renames)"],
  ["Address", "address", "the camera's IPv4 address"],
  ["MacAddress", "mac", "the MAC address the camera announces"],
] as const;

type Key = (typeof NAMEPLATE)[number][1] | (typeof OWN)[number][1];

/**
 * A camera's Identification: a DI FunctionalGroupType implementing IVendorNameplateType, with the
 * properties under their DI browse names (DI:Identification/DI:SerialNumber). A value the camera
 * has not told yet reads BadWaitingForInitialData rather than an empty string that looks like data.
 */
export class Nameplate {
  readonly node: UAObject;
  readonly #values = new Map<Key, { variable: UAVariable; dataType: DataType; last?: string }>();

  constructor(space: AddressSpace, own: Namespace, parent: UAObject, nodeId: string) {
    const di = space.getNamespaceIndex(DI_URI);
    const group = space.findObjectType("FunctionalGroupType", di);
    const nameplate = space.findObjectType("IVendorNameplateType", di);
    if (!group || !nameplate) throw new Error("the DI nodeset is not loaded");
    this.node = own.addObject({
      componentOf: parent,
      browseName: { name: "Identification", namespaceIndex: di },
      typeDefinition: group,
      nodeId,
      description: "the camera's nameplate, as its announces and the config tell it",
    });
    implementInterface(
      this.node,
      nameplate,
      NAMEPLATE.map(([name]) => name),
    );
    for (const [name, key, dataType] of NAMEPLATE) {
      const variable = this.node.getPropertyByName(name, di);
      if (!variable) throw new Error(`IVendorNameplateType has no ${name}`);
      this.#values.set(key, { variable, dataType });
    }
    for (const [name, key, description] of OWN)
      this.#values.set(key, {
        variable: own.addVariable({
          propertyOf: this.node,
          browseName: name,
          nodeId: `${nodeId}.${name}`,
          dataType: "String",
          description,
        }),
        dataType: DataType.String,
      });
    for (const { variable } of this.#values.values())
      variable.setValueFromSource({ dataType: DataType.Null }, StatusCodes.BadWaitingForInitialData);
  }

  update(state: { readonly [key in Key]?: string | undefined }): void {
    for (const [key, entry] of this.#values) {
      const value = state[key];
      if (value === undefined || value === "" || value === entry.last) continue;
      entry.last = value;
      const typed =
        entry.dataType === DataType.LocalizedText
          ? new Variant({ dataType: DataType.LocalizedText, value: new LocalizedText({ text: value }) })
          : new Variant({ dataType: DataType.String, value });
      entry.variable.setValueFromSource(typed);
    }
  }
}
