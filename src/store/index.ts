export { type Db, DEFAULT_DB, isPostgresUrl, type OpenStoreOptions, openStore, type Store } from './db.js';
export { deepFreeze } from './reader.js';
export {
  type ArmBody,
  countResources,
  deleteResource,
  deleteResourceTree,
  getResource,
  getResources,
  insertResources,
  type ListQuery,
  listResources,
  putResource,
  resourceFromRow,
  type StoredResource,
} from './resources.js';
export type { Database, OperationsTable, PrincipalsTable } from './schema.js';
export { inTransaction } from './transaction.js';
