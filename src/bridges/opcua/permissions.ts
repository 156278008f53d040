import {
  type BaseNode,
  makeNodeId,
  type NodeId,
  PermissionType,
  type RolePermissionTypeOptions,
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
