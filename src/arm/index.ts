export {
  ARM_AUDIENCES,
  DEFAULT_TENANT_ID,
  issueToken,
  loadSigningKeys,
  principalIdsFor,
  type SigningKeys,
} from './auth.js';
export { ArmError, errors } from './errors.js';
export type { Principal } from './identity.js';
export { type LroStyle, type Operation, type OperationKind, operationEndpoint } from './lro.js';
export { pageReply, pageRequest } from './paging.js';
export { BUILT_IN_ROLES, type RoleDefinition, roleById, roleByName, roleDefinitionId } from './rbac.js';
export type { ArmContext, ArmReply, Handler, Registry, ResourceTypeDef, Services } from './registry.js';
export { fullType } from './registry.js';
export { isGuid, keyOf, parseArmPath, type Scope } from './resourceId.js';
export {
  checkPreconditions,
  collectionQuery,
  listReply,
  notFound,
  type Placement,
  placeTarget,
  qualifiedName,
  readTarget,
  resourceReply,
  systemData,
  targetKey,
  writeTarget,
} from './resourceOps.js';
