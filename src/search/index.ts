/**
 * `flusso/search`: typed search of the indexes a config defines, checked by the compiler.
 * This folder owns the read side: requests described from the config (`searchIndex`,
 * SearchRequest.ts) with field handles typed by kind (fields.ts, handles.ts), conditions
 * and sort keys (Query.ts), projections (projection.ts), hits decoded against the config
 * (documentSchema.ts), and running them — the Effect service `Search` (Search.ts) and the
 * Promise facade `SearchClient` (SearchClient.ts). docs/searching.md is the user guide.
 */
export { searchIndex, SearchRequest } from "./SearchRequest.js"
export type { Cursor, IndexDefinition, Runnable, SearchableConfig } from "./SearchRequest.js"
export { Search } from "./Search.js"
export type { Hit, Page, Pages, SearchService } from "./Search.js"
export { SearchClient } from "./SearchClient.js"
export type { FromConfigOptions, SearchConnection } from "./connection.js"
export { and, byScore, not, or, Query, raw, rawSort, Sort } from "./Query.js"
export type { Clauses, Json, JsonObject } from "./Query.js"
export type { FieldHandle, Handles, NestedHandle, RelationHandle } from "./fields.js"
export type {
  AnyOptions,
  BooleanHandle,
  BoundingBox,
  CustomHandle,
  DateHandle,
  EnumHandle,
  ExactHandle,
  GeoHandle,
  IdentifierHandle,
  JsonHandle,
  KeywordHandle,
  MapHandle,
  MatchHandle,
  MatchOptions,
  NumberHandle,
  PhraseOptions,
  SortOptions,
  StoredHandle,
  TextHandle
} from "./handles.js"
export type { Project, SelectPath } from "./projection.js"
export type { CustomValue, DateInput, Distance, GeoPoint } from "./values.js"
export { BadQuery, IndexNotFound, SearchUnavailable, UnexpectedResponse } from "./errors.js"
export type { SearchError } from "./errors.js"
export { ConfigInvalid } from "../errors.js"
export type { DocumentOf } from "../config/documentOf.js"
