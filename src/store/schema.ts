/** Table shapes as Kysely sees them. JSON documents are stored as text so both engines share one code path. */
export interface ResourcesTable {
  /** Lower-cased, slash-normalised resource id: the identity of a resource. */
  key: string;
  /**
   * The id with the casing it was created with, when it differs from the body's `id` (a few types echo
   * another casing in the body); null in the common case, which saves a second copy of every id.
   */
  id: string | null;
  /** Lower-cased full type, e.g. `microsoft.compute/virtualmachines/extensions`. */
  type: string;
  subscription_id: string | null;
  resource_group: string | null;
  /** Key of the scope or parent the resource hangs off ('' for tenant-level resources). */
  parent_key: string;
  name: string;
  /** The complete ARM representation returned by GET; its `id` keeps the casing it was created with. */
  body: string;
  etag: string;
  created_at: string;
  updated_at: string;
}

export interface OperationsTable {
  id: string;
  kind: string;
  status: string;
  namespace: string;
  subscription_id: string | null;
  location: string;
  target_key: string;
  input: string;
  /** Final status-resource extras (e.g. `properties` of a created extension) and the final GET body. */
  result: string | null;
  error: string | null;
  start_time: string;
  end_time: string | null;
  due_at: string;
}

export interface PrincipalsTable {
  object_id: string;
  client_id: string;
  tenant_id: string;
  name: string;
  principal_type: string;
  secret_hash: string | null;
  created_at: string;
}

export interface Database {
  resources: ResourcesTable;
  operations: OperationsTable;
  principals: PrincipalsTable;
}
