import {
  type VariantArrayType as ArrayType,
  BrowseDirection,
  type ClientSession,
  DataType,
  NodeClass,
  VariantArrayType,
} from "node-opcua";

export const MV = "http://opcfoundation.org/UA/MachineVision";
export const DI = "http://opcfoundation.org/UA/DI/";

export async function methodId(session: ClientSession, objectId: string, name: string): Promise<string> {
  const result = await session.browse(objectId);
  const found = result.references?.find((ref) => ref.browseName.name === name);
  if (!found) throw new Error(`no method ${name} under ${objectId}`);
  return found.nodeId.toString();
}

type Input = { dataType: DataType; value: unknown; arrayType?: ArrayType };

/** Arguments of the declared types with empty values: what a client sends that has nothing to say. */
export async function emptyArguments(session: ClientSession, method: string): Promise<Input[]> {
  const { inputArguments } = await session.getArgumentDefinition(method);
  return inputArguments.map((argument) => {
    const id = argument.dataType.namespace === 0 ? Number(argument.dataType.value) : 22;
    const array = argument.valueRank > 0;
    if (id === 1) return { dataType: DataType.Boolean, value: false };
    if (id === 6) return { dataType: DataType.Int32, value: 0 };
    if (id === 7) return { dataType: DataType.UInt32, value: 0 };
    if (id === 12) return { dataType: DataType.String, value: "" };
    if (id === 21) return { dataType: DataType.LocalizedText, value: { text: "" } };
    return array
      ? { dataType: DataType.ExtensionObject, arrayType: VariantArrayType.Array, value: [] }
      : { dataType: DataType.ExtensionObject, value: null };
  });
}

/** Calls a method by browse name; without inputs, with empty arguments of the declared types. */
export async function callMethod(session: ClientSession, objectId: string, name: string, inputs?: Input[]) {
  const method = await methodId(session, objectId, name);
  return session.call({
    objectId,
    methodId: method,
    inputArguments: (inputs ?? (await emptyArguments(session, method))) as never,
  });
}

/** A node under cam1's VisionSystem by browse names, each [namespace URI, name]. */
export async function visionNode(session: ClientSession, ...path: [string, string][]): Promise<string> {
  const namespaces = await session.readNamespaceArray();
  const result = await session.translateBrowsePath({
    startingNode: "ns=1;s=cam1.VisionSystem",
    relativePath: {
      elements: path.map(([uri, name]) => ({
        targetName: { namespaceIndex: namespaces.indexOf(uri), name },
        includeSubtypes: true,
      })),
    } as never,
  });
  const target = result.targets?.[0]?.targetId.toString();
  if (!target) throw new Error(`no ${path.map(([, name]) => name).join("/")} under cam1's VisionSystem`);
  return target;
}

interface Found {
  readonly nodeId: string;
  readonly nodeClass: NodeClass;
  readonly name: string;
  readonly parent: string;
}

/** Every object, variable and method below the node by hierarchical references, outside namespace 0. */
async function below(session: ClientSession, root: string): Promise<Found[]> {
  const seen = new Set<string>([root]);
  const found: Found[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift() as string;
    const result = await session.browse({
      nodeId: parent,
      browseDirection: BrowseDirection.Forward,
      referenceTypeId: "HierarchicalReferences",
      includeSubtypes: true,
      nodeClassMask: NodeClass.Object | NodeClass.Variable | NodeClass.Method,
      resultMask: 63,
    });
    for (const reference of result.references ?? []) {
      const nodeId = reference.nodeId.toString();
      const name = reference.browseName.name ?? "";
      if (reference.nodeClass === NodeClass.Method) {
        found.push({ nodeId, nodeClass: reference.nodeClass, name, parent });
        continue;
      }
      if (seen.has(nodeId) || reference.nodeId.namespace === 0) continue;
      seen.add(nodeId);
      queue.push(nodeId);
      found.push({ nodeId, nodeClass: reference.nodeClass, name, parent });
    }
  }
  return found;
}

/** Every variable below the node, by hierarchical references, as the client browses them. */
export async function variablesBelow(session: ClientSession, root: string): Promise<string[]> {
  return (await below(session, root))
    .filter((node) => node.nodeClass === NodeClass.Variable)
    .map((node) => node.nodeId);
}

/** Every method below the node, with the object that owns it. */
export async function methodsBelow(
  session: ClientSession,
  root: string,
): Promise<{ objectId: string; name: string }[]> {
  return (await below(session, root))
    .filter((node) => node.nodeClass === NodeClass.Method)
    .map((node) => ({ objectId: node.parent, name: node.name }));
}
