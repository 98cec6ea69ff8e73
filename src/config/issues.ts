/**
 * Turns a Schema `ParseError` into one readable line per problem, each naming its full
 * path (`indexes.users.fields.email.kind: …`). Effect's own formatters report every
 * union member that failed; here a union is explained by the member the value was
 * evidently meant to be, and unknown keys or literals get a did-you-mean.
 */
import type { ParseResult } from "effect"
import { Array as Arr, Either, Option, ParseResult as PR, Schema, SchemaAST as AST } from "effect"

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
    case "Refinement":
      return describe(ast.from)
    case "Transformation":
      return ast.to._tag === "Declaration" ? describe(ast.to) : describe(ast.from)
    case "Declaration":
      return Option.getOrElse(AST.getIdentifierAnnotation(ast), () => String(ast))
    default:
      return String(ast)
  }
}

const children = (issue: ParseResult.Composite): ReadonlyArray<Issue> => Arr.ensure(issue.issues)

/** Effect's `ArrayFormatter` already applies custom messages (patterns, refinements). */
const leaf = (issue: Issue, path: Path): Array<string> =>
  PR.ArrayFormatter.formatIssueSync(issue).map((i) => line([...path, ...i.path], i.message))

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

/** The member failed on a discriminator (`type`, `_tag`), so the value was meant as another member. */
const wrongVariant = (issue: Issue): boolean => {
  const pointers = issue._tag === "Pointer" ? [issue] : issue._tag === "Composite" ? children(issue) : []
  return pointers.some((p) => {
    if (p._tag !== "Pointer") return false
    const inner = core(p.issue)
    return (inner._tag === "Missing" && isLiteralAst(inner.ast.type)) || (inner._tag === "Type" && isLiteralAst(inner.ast))
  })
}

/** Members of nested unions, flattened. */
const members = (issue: ParseResult.Composite): Array<Issue> =>
  children(issue).flatMap((member) => {
    const inner = core(member)
    return inner._tag === "Composite" && inner.ast._tag === "Union" ? members(inner) : [inner]
  })

const alternatives = (ast: AST.AST): Array<AST.AST> => (ast._tag === "Union" ? ast.types.flatMap(alternatives) : [ast])

const union = (issue: ParseResult.Composite, ast: AST.Union, path: Path): Array<string> => {
  // A member that failed on more than the value's type (a key, a check) is what the value was meant to be.
  const reachedInside = members(issue).filter((m) => m._tag !== "Type")
  const meant = reachedInside.filter((m) => !wrongVariant(m))
  const explanations = (meant.length > 0 ? meant : reachedInside).map((m) => walk(m, path, undefined))
  if (explanations.length > 0) return explanations.reduce((a, b) => (b.length < a.length ? b : a))
  // `optional` adds `| undefined`; a value that is present was never meant to be undefined.
  const types = alternatives(ast).filter((t) => t._tag !== "UndefinedKeyword")
  const literals = types.flatMap((t) => (t._tag === "Literal" && typeof t.literal === "string" ? [t.literal] : []))
  const suggestion = typeof issue.actual === "string" ? didYouMean(issue.actual, literals) : undefined
  return [
    line(
      path,
      `Expected ${types.map(describe).join(" | ")}, actual ${show(issue.actual)}` +
        (suggestion !== undefined ? `; did you mean ${JSON.stringify(suggestion)}?` : "")
    )
  ]
}

const walk = (issue: Issue, path: Path, parent: AST.AST | undefined): Array<string> => {
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, [...path, ...Arr.ensure(issue.path)], parent)
    case "Unexpected":
      return [line(path, unexpected(issue, path, parent))]
    case "Composite":
      return issue.ast._tag === "Union"
        ? union(issue, issue.ast, path)
        : children(issue).flatMap((child) => walk(child, path, issue.ast))
    case "Transformation":
    case "Refinement":
      return core(issue) === issue ? leaf(issue, path) : walk(core(issue), path, parent)
    default:
      return leaf(issue, path)
  }
}

/** One line per problem, each starting with its path. */
export const formatParseError = (error: ParseResult.ParseError): ReadonlyArray<string> => [
  ...new Set(walk(error.issue, [], undefined))
]
