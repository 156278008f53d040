import {
  AccessLevelFlag,
  type BaseNode,
  BrowseDirection,
  makeNodeId,
  NodeClass,
  type NodeId,
  PermissionType,
  type RolePermissionTypeOptions,
  type UAVariable,
  WellKnownRoles,
} from "node-opcua";
import { OPCUA_ROLES, type OpcuaRole } from "../../config/opcua-schema.js";

/** The config's roles as well-known roles, in the same order: each role holds the ones below it. */
const LADDER: readonly WellKnownRoles[] = [
  WellKnownRoles.Observer,
  WellKnownRoles.Operator,
  WellKnownRoles.Engineer,
];
const rank = (role: OpcuaRole) => OPCUA_ROLES.indexOf(role);

/** Who may act on a node: the lowest role that may, and every role above it. */
export type Level = Exclude<OpcuaRole, "observer">;

const SEE =
  PermissionType.Browse |
  PermissionType.Read |
  PermissionType.ReadRolePermissions |
  PermissionType.ReceiveEvents;

/** What a user of the config gets; anonymous sessions get Anonymous from node-opcua itself. */
export function roleIds(role: OpcuaRole): NodeId[] {
  return [WellKnownRoles.AuthenticatedUser, ...LADDER.slice(0, rank(role) + 1)].map((id) =>
    makeNodeId(id, 0),
  );
}

function permissions(level: Level, act: PermissionType): RolePermissionTypeOptions[] {
  const everyone = [WellKnownRoles.Anonymous, WellKnownRoles.AuthenticatedUser, ...LADDER];
  return everyone.map((role) => ({
    roleId: makeNodeId(role, 0),
    permissions: LADDER.indexOf(role) >= rank(level) ? SEE | act : SEE,
  }));
}

/** node-opcua then answers BadUserAccessDenied before our handler runs: nothing reaches a camera. */
export function restrictCall(node: BaseNode, level: Level): void {
  node.setRolePermissions(permissions(level, PermissionType.Call));
}

export function restrictWrite(node: BaseNode, level: Level): void {
  node.setRolePermissions(permissions(level, PermissionType.Write));
}

/**
 * Every variable below node (by hierarchical references) becomes read-only for everyone: what a
 * nodeset instantiates is writable unless told otherwise, and nothing here is a client's to set.
 * Writable nodes are made so one by one afterwards (IO outputs, with restrictWrite).
 */
export function readOnlySubtree(node: BaseNode, seen = new Set<string>()): void {
  const key = node.nodeId.toString();
  if (seen.has(key)) return;
  seen.add(key);
  if (node.nodeClass === NodeClass.Variable) {
    const variable = node as UAVariable;
    variable.accessLevel = AccessLevelFlag.CurrentRead;
    variable.userAccessLevel = AccessLevelFlag.CurrentRead;
  }
  for (const reference of node.findReferencesExAsObject("HierarchicalReferences", BrowseDirection.Forward))
    if (reference.nodeClass === NodeClass.Variable || reference.nodeClass === NodeClass.Object)
      readOnlySubtree(reference, seen);
}
