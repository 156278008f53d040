import {
  type BaseNode,
  makeNodeId,
  PermissionType,
  type RolePermissionTypeOptions,
  WellKnownRoles,
} from "node-opcua";

/** Who may act on a node: the first role able to, and every role above it. */
export type Level = "operator" | "engineer";

const SEE =
  PermissionType.Browse |
  PermissionType.Read |
  PermissionType.ReadRolePermissions |
  PermissionType.ReceiveEvents;
const VIEWERS = [WellKnownRoles.Anonymous, WellKnownRoles.AuthenticatedUser, WellKnownRoles.Observer];
const ABOVE: Record<Level, WellKnownRoles[]> = {
  operator: [WellKnownRoles.Operator, WellKnownRoles.Engineer],
  engineer: [WellKnownRoles.Engineer],
};

function permissions(level: Level, act: PermissionType): RolePermissionTypeOptions[] {
  const acting = new Set(ABOVE[level]);
  const all = [...VIEWERS, WellKnownRoles.Operator, WellKnownRoles.Engineer];
  return all.map((role) => ({
    roleId: makeNodeId(role, 0),
    permissions: acting.has(role) ? SEE | act : SEE,
  }));
}

/** node-opcua then answers BadUserAccessDenied before our handler runs: nothing reaches a camera. */
export function restrictCall(node: BaseNode, level: Level): void {
  node.setRolePermissions(permissions(level, PermissionType.Call));
}

export function restrictWrite(node: BaseNode, level: Level): void {
  node.setRolePermissions(permissions(level, PermissionType.Write));
}
