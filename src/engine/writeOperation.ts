/** A built document as the write that puts it in place: an upsert of its JSON (refs beside it), or a delete. */
import type { BuiltDocument } from "../source/DocumentBuilder.js"
import type { WriteOperation } from "../sink/Sink.js"

export const writeOperation = (index: string, doc: BuiltDocument, version: bigint): WriteOperation =>
  doc.json === null
    ? { _tag: "Delete", index, id: doc.id, version }
    : { _tag: "Upsert", index, id: doc.id, json: doc.json, refs: doc.refs, version }
