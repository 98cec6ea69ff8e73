/**
 * Turns a Schema `ParseError` into one readable line per problem, each naming its full
 * path (`indexes.users.fields.email.kind: …`). Effect's own formatters report every
 * union member that failed; here a union is explained by the member the value was
 * evidently meant to be, unknown keys or literals get a did-you-mean, and a schema may
 * explain its own unknown keys through a `KeyHints` annotation.
 */
import type { ParseResult } from "effect"
import { Array as Arr, Either, Option, ParseResult as PR, Predicate, Schema, SchemaAST as AST } from "effect"

/** Annotation id of a struct's `KeyHints`. */
export const KeyHintId: unique symbol = Symbol.for("flusso/config/KeyHints")

export interface KeyHint {
  readonly message: string
  /** The required key this one was evidently meant as: its "is missing" goes unsaid. */
  readonly insteadOf?: string
}

/**
 * Explains why `key` is unknown to a struct, given the struct's value and the values of
 * the structs enclosing it (outermost first); undefined = the generic message.
 */
export type KeyHints = (
  key: string,
  value: { readonly [key: string]: unknown },
  enclosing: ReadonlyArray<unknown>
) => KeyHint | undefined

type Path = ReadonlyArray<PropertyKey>
type Issue = ParseResult.ParseIssue

export const formatPath = (path: Path): string =>
  path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("")

/** Messages echo the offending value, except under a password key: errors must not leak secrets. */
const line = (path: Path, message: string): string => {
  const shown = /password/i.test(String(path[path.length - 1])) ? message.replace(/, actual [\s\S]*$/, "") : message
  return path.length === 0 ? shown : `${formatPath(path)}: ${shown}`
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions. */
export const editDistance = (a: string, b: string): number => {
  const d = new Map<string, number>()
  const at = (i: number, j: number): number => (i === 0 ? j : j === 0 ? i : (d.get(`${i},${j}`) ?? Infinity))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]
      d.set(`${i},${j}`, Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost, swapped ? at(i - 2, j - 2) + 1 : Infinity))
    }
  }
  return at(a.length, b.length)
}

/** The closest candidate within edit distance 2, if any. */
export const didYouMean = (word: string, candidates: Iterable<string>): string | undefined => {
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { candidate, distance }
  }
  return best?.candidate
}

const show = (value: unknown): string => {
  const text = typeof value === "function" ? "a function" : (JSON.stringify(value) ?? String(value))
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

const describe = (ast: AST.AST): string => {
  switch (ast._tag) {
    case "Literal":
      return JSON.stringify(ast.literal)
    case "StringKeyword":
      return "a string"
    case "NumberKeyword":
      return "a number"
    case "BooleanKeyword":
      return "a boolean"
    case "TypeLiteral":
      return "an object"
    case "TupleType":
      return "a list"
    case "Refinement":
      return describe(ast.from)
    case "Transformation":
      return ast.to._tag === "Declaration" ? describe(ast.to) : describe(ast.from)
    case "Declaration":
      return Option.getOrElse(AST.getIdentifierAnnotation(ast), () => String(ast))
    case "Suspend":
      return describe(ast.f())
    default:
      return String(ast)
  }
}

const children = (issue: ParseResult.Composite): ReadonlyArray<Issue> => Arr.ensure(issue.issues)

const alternatives = (ast: AST.AST): Array<AST.AST> => (ast._tag === "Union" ? ast.types.flatMap(alternatives) : [ast])

/** "Expected a | b, actual v", with a did-you-mean among string literals. */
const expected = (ast: AST.AST, actual: unknown, path: Path): string => {
  // `optional` adds `| undefined`; a value that is present was never meant to be undefined.
  const types = alternatives(ast).filter((t) => t._tag !== "UndefinedKeyword")
  const literals = types.flatMap((t) => (t._tag === "Literal" && typeof t.literal === "string" ? [t.literal] : []))
  const suggestion = typeof actual === "string" ? didYouMean(actual, literals) : undefined
  return line(
    path,
    `Expected ${[...new Set(types.map(describe))].join(" | ")}, actual ${show(actual)}` +
      (suggestion !== undefined ? `; did you mean ${JSON.stringify(suggestion)}?` : "")
  )
}

/**
 * A whole number past 2^53 is refused as "not an integer" by `Schema.Int` (it cannot be
 * told apart from its neighbours): say it is too large instead.
 */
const tooLarge = (message: string): string => {
  const actual = /^Expected an integer, actual (\S+)$/.exec(message)?.[1]
  const n = actual === undefined ? Number.NaN : Number(actual)
  return (Number.isInteger(n) || !Number.isFinite(n)) && !Number.isNaN(n) && Math.abs(n) > Number.MAX_SAFE_INTEGER
    ? `is too large: ${actual}; expected a whole number of at most ${Number.MAX_SAFE_INTEGER}`
    : message
}

/** Effect's `ArrayFormatter` already applies custom messages (patterns, refinements). */
const leaf = (issue: Issue, path: Path): Array<string> =>
  PR.ArrayFormatter.formatIssueSync(issue).map((i) => line([...path, ...i.path], tooLarge(i.message)))

const unexpected = (issue: ParseResult.Unexpected, path: Path, parent: AST.AST | undefined): string => {
  const key = String(path[path.length - 1])
  if (parent?._tag !== "TypeLiteral") return issue.message ?? "is unexpected"
  const [record] = parent.indexSignatures
  if (record !== undefined) {
    // A record key that failed its own schema: report why, not "unexpected".
    const reason = Either.match(Schema.decodeUnknownEither(Schema.make(record.parameter))(key), {
      onLeft: (error) => PR.ArrayFormatter.formatErrorSync(error).map((i) => i.message).join("; "),
      onRight: () => "is not allowed"
    })
    return `invalid name: ${reason}`
  }
  const known = parent.propertySignatures.map((p) => String(p.name))
  const suggestion = didYouMean(key, known)
  return suggestion !== undefined
    ? `unknown key, did you mean \`${suggestion}\`?`
    : `unknown key; expected one of ${known.map((k) => `\`${k}\``).join(", ")}`
}

/** Unwraps the layers that do not change which value was checked. */
const core = (issue: Issue): Issue =>
  (issue._tag === "Transformation" && issue.kind === "Encoded") || (issue._tag === "Refinement" && issue.kind === "From")
    ? core(issue.issue)
    : issue

const isLiteralAst = (ast: AST.AST): boolean =>
  ast._tag === "Literal" || (ast._tag === "Union" && ast.types.every(isLiteralAst))

const pointers = (issue: Issue): ReadonlyArray<ParseResult.Pointer> =>
  (issue._tag === "Pointer" ? [issue] : issue._tag === "Composite" ? children(issue) : []).filter(
    (p): p is ParseResult.Pointer => p._tag === "Pointer"
  )

/** The literals a value failed to be, if it failed a literal (or a union of literals). */
const failedLiteral = (issue: Issue): { readonly ast: AST.AST; readonly actual: unknown } | undefined => {
  const inner = core(issue)
  return (inner._tag === "Type" || inner._tag === "Composite") && isLiteralAst(inner.ast) ? inner : undefined
}

/** A pointer whose value failed a literal (a discriminator: `kind`, `type`, `_tag`, `op`). */
const onDiscriminator = (p: ParseResult.Pointer): boolean => {
  const inner = core(p.issue)
  return (inner._tag === "Missing" && isLiteralAst(inner.ast.type)) || failedLiteral(inner) !== undefined
}

/** The member failed on a discriminator, so the value was meant as another member. */
const wrongVariant = (issue: Issue): boolean => pointers(issue).some(onDiscriminator)

const keyOf = (p: ParseResult.Pointer): PropertyKey | undefined => {
  const path = Arr.ensure(p.path)
  return path.length === 1 ? path[0] : undefined
}

/** The value carries this member's discriminator and it was accepted: the value was meant as this member. */
const discriminatorMatched = (issue: Issue): boolean => {
  if (issue._tag !== "Composite" || issue.ast._tag !== "TypeLiteral" || !Predicate.isRecord(issue.actual)) return false
  const actual = issue.actual
  const failed = new Set(pointers(issue).map(keyOf))
  return issue.ast.propertySignatures.some(
    (ps) => isLiteralAst(ps.type) && Object.hasOwn(actual, ps.name) && !failed.has(ps.name)
  )
}

/** The value names a discriminator no member accepts (`kind: "txt"`): one line offering every accepted value. */
const unknownDiscriminator = (tried: ReadonlyArray<Issue>, path: Path): string | undefined => {
  const found = tried.flatMap(pointers).flatMap((p) => {
    const type = failedLiteral(p.issue)
    const key = keyOf(p)
    return type !== undefined && key !== undefined ? [{ key, type }] : []
  })
  const [first] = found
  if (first === undefined) return undefined
  const literals = found.filter(({ key }) => key === first.key).flatMap(({ type }) => alternatives(type.ast))
  return expected(AST.Union.make(literals), first.type.actual, [...path, first.key])
}

/** Members of nested unions, flattened. */
const members = (issue: ParseResult.Composite): Array<Issue> =>
  children(issue).flatMap((member) => {
    const inner = core(member)
    return inner._tag === "Composite" && inner.ast._tag === "Union" ? members(inner) : [inner]
  })

const fewest = (explanations: ReadonlyArray<Array<string>>): Array<string> | undefined =>
  explanations.length === 0 ? undefined : explanations.reduce((a, b) => (b.length < a.length ? b : a))

const union = (issue: ParseResult.Composite, ast: AST.Union, path: Path, ancestors: Ancestors): Array<string> => {
  // A member that failed on more than the value's type (a key, a check) is what the value was meant to be…
  const reachedInside = members(issue).filter((m) => m._tag !== "Type")
  const explain = (candidates: ReadonlyArray<Issue>) => fewest(candidates.map((m) => walk(m, path, undefined, ancestors)))
  // …above all one whose discriminator the value carries.
  const matched = explain(reachedInside.filter(discriminatorMatched))
  if (matched !== undefined) return matched
  const unknownTag = unknownDiscriminator(reachedInside, path)
  if (unknownTag !== undefined) return [unknownTag]
  const meant = reachedInside.filter((m) => !wrongVariant(m))
  return explain(meant.length > 0 ? meant : reachedInside) ?? [expected(ast, issue.actual, path)]
}

/** The values of the structs around an issue, outermost first, for `KeyHints`. */
type Ancestors = ReadonlyArray<unknown>

const struct = (issue: ParseResult.Composite, ast: AST.TypeLiteral, path: Path, ancestors: Ancestors): Array<string> => {
  const explain = AST.getAnnotation<KeyHints>(KeyHintId)(ast)
  const value = issue.actual
  const hintFor = (p: ParseResult.Pointer): KeyHint | undefined => {
    const key = keyOf(p)
    return p.issue._tag === "Unexpected" && typeof key === "string" && Option.isSome(explain) && Predicate.isRecord(value)
      ? explain.value(key, value, ancestors)
      : undefined
  }
  const replaced = new Set(pointers(issue).flatMap((p) => hintFor(p)?.insteadOf ?? []))
  const inside = [...ancestors, value]
  return children(issue).flatMap((child) => {
    if (child._tag === "Pointer") {
      const hint = hintFor(child)
      if (hint !== undefined) return [line([...path, ...Arr.ensure(child.path)], hint.message)]
      const key = keyOf(child)
      if (child.issue._tag === "Missing" && typeof key === "string" && replaced.has(key)) return []
    }
    return walk(child, path, ast, inside)
  })
}

const walk = (issue: Issue, path: Path, parent: AST.AST | undefined, ancestors: Ancestors): Array<string> => {
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, [...path, ...Arr.ensure(issue.path)], parent, ancestors)
    case "Unexpected":
      return [line(path, unexpected(issue, path, parent))]
    case "Composite":
      return issue.ast._tag === "Union"
        ? union(issue, issue.ast, path, ancestors)
        : issue.ast._tag === "TypeLiteral"
          ? struct(issue, issue.ast, path, ancestors)
          : children(issue).flatMap((child) => walk(child, path, issue.ast, ancestors))
    case "Transformation":
    case "Refinement":
      return core(issue) === issue ? leaf(issue, path) : walk(core(issue), path, parent, ancestors)
    case "Type":
      // Effect would print a union of structs, or a list, as its full type: say what kind of value was wanted.
      return Option.isNone(AST.getMessageAnnotation(issue.ast)) ? [expected(issue.ast, issue.actual, path)] : leaf(issue, path)
    default:
      return leaf(issue, path)
  }
}

/** One line per problem, each starting with its path. */
export const formatParseError = (error: ParseResult.ParseError): ReadonlyArray<string> => [
  ...new Set(walk(error.issue, [], undefined, []))
]
