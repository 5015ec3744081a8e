// Interface include/exclude patterns.
//
// The osSensor documents NETWORK_DEVICE_INCLUDELIST / _EXCLUDELIST as "egrep
// regular expressions". egrep is POSIX ERE, which is not JavaScript RegExp
// syntax: `[[:digit:]]` is a class, a backslash inside brackets is a literal,
// `\d` is not a digit, a leading `*` is a literal for GNU grep, and so on.
// Feeding an ERE straight to `new RegExp` silently changes its meaning, so we
// parse the ERE ourselves, reject what GNU `grep -E` rejects, and emit an
// equivalent JavaScript RegExp for the agent and the dashboard to run.
//
// Matching semantics are egrep's: a pattern selects an interface when it
// matches anywhere in the name (unanchored search), so only the presence of a
// match matters and POSIX leftmost-longest vs JavaScript leftmost-first
// backtracking never changes the answer.

/** GNU regex's RE_DUP_MAX: larger repetition counts are "too big" for grep. */
const REPETITION_MAX = 32767;

export type EreTranslation =
  | { ok: true; pattern: string; source: string; regex: RegExp; warnings: string[] }
  | { ok: false; pattern: string; message: string; index: number };

// C-locale character classes: interface names are ASCII, and the agent runs
// egrep's rules in the C locale, so no Unicode classes.
const POSIX_CLASSES: Record<string, string> = {
  alpha: "A-Za-z",
  digit: "0-9",
  alnum: "0-9A-Za-z",
  upper: "A-Z",
  lower: "a-z",
  space: "\\x20\\x09\\x0a\\x0b\\x0c\\x0d",
  blank: "\\x20\\x09",
  punct: "\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e",
  print: "\\x20-\\x7e",
  graph: "\\x21-\\x7e",
  cntrl: "\\x00-\\x1f\\x7f",
  xdigit: "0-9A-Fa-f",
};

// GNU grep's escape extensions, which interface patterns in the wild use
// (`\<eth`, `\bveth`). Anything else after a backslash outside brackets is
// either a literal punctuation character or rejected (see `parseEscape`).
const GNU_ESCAPES: Record<string, string> = {
  w: "[0-9A-Za-z_]",
  W: "[^0-9A-Za-z_]",
  s: "\\s",
  S: "\\S",
  b: "\\b",
  B: "\\B",
  "<": "\\b(?=[0-9A-Za-z_])",
  ">": "\\b(?<=[0-9A-Za-z_])",
  "`": "^",
  "'": "$",
};

/** Escapes one literal character so that it means itself in a RegExp, in or out of brackets. */
function literal(char: string): string {
  if (/^[A-Za-z0-9_]$/.test(char)) return char;
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, "0")}`;
  return char;
}

class EreError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

interface Piece {
  source: string;
  /** Anchors cannot carry a quantifier in JavaScript; they are wrapped if one follows. */
  kind: "atom" | "anchor" | "quantified";
}

class EreParser {
  private index = 0;
  readonly warnings: string[] = [];

  constructor(private readonly text: string) {}

  parse(): string {
    const source = this.alternation(0);
    if (this.index < this.text.length) {
      // Only an unmatched ")" stops the top-level alternation early.
      throw new EreError("unmatched ) — write \\) for a literal parenthesis", this.index);
    }
    return source;
  }

  private peek(offset = 0): string | undefined {
    return this.text[this.index + offset];
  }

  private alternation(depth: number): string {
    const branches = [this.branch(depth)];
    while (this.peek() === "|") {
      this.index++;
      branches.push(this.branch(depth));
    }
    return branches.join("|");
  }

  private branch(depth: number): string {
    const pieces: Piece[] = [];
    for (;;) {
      const char = this.peek();
      if (char === undefined || char === "|") break;
      if (char === ")") {
        if (depth > 0) break;
        // GNU grep reads a lone ")" as a literal; POSIX leaves it undefined.
        // It is nearly always a typo in an interface pattern, so say so.
        throw new EreError("unmatched ) — write \\) for a literal parenthesis", this.index);
      }
      let piece: Piece;
      const repeatsNothing =
        pieces.length === 0 && (char === "*" || char === "+" || char === "?" || char === "{");
      if (repeatsNothing) {
        // GNU grep -E warns and applies a leading repetition operator to the
        // empty string, so `*abc` means `abc` (not a literal "*").
        this.warnings.push(
          `"${char}" at the start of an expression repeats nothing and is ignored (write \\${char} for a literal ${char})`,
        );
        piece = { source: "(?:)", kind: "atom" };
      } else {
        piece = this.atom(depth);
      }
      for (;;) {
        const at = this.index;
        const quantifier = this.quantifier();
        if (quantifier === undefined) break;
        if (piece.kind === "anchor") {
          // GNU grep makes `^*` optional but ignores `$*` and `\<?`, and rejects
          // `(^*)`: no meaning worth keeping, so refuse it.
          throw new EreError(
            `a repetition after an anchor or word boundary has no reliable meaning in egrep`,
            at,
          );
        }
        // Stacked quantifiers (`a**`, `a{1,2}{3}`) are valid ERE but a syntax
        // error in JavaScript: group what came before.
        const base = piece.kind === "atom" ? piece.source : `(?:${piece.source})`;
        piece = { source: base + quantifier, kind: "quantified" };
      }
      if (repeatsNothing && depth > 0 && /^[|)]/.test(this.peek() ?? "")) {
        // `(*)` and `(a|*)`: grep -E rejects a group branch that is only a repetition.
        throw new EreError("nothing to repeat", this.index - 1);
      }
      pieces.push(piece);
    }
    return pieces.map((piece) => piece.source).join("");
  }

  /** Reads `*`, `+`, `?` or a valid interval at the cursor; undefined when there is none. */
  private quantifier(): string | undefined {
    const char = this.peek();
    if (char === "*" || char === "+" || char === "?") {
      this.index++;
      return char;
    }
    if (char === "{") return this.interval();
    return undefined;
  }

  /**
   * Parses `{n}`, `{n,}`, `{,m}`, `{n,m}` like glibc's regcomp: `{}` and a
   * second comma are errors. GNU reads other text after `{` as a literal
   * brace, except next to anchors, where its answers get erratic: we require
   * `\\{` for a literal brace, which no interface name contains anyway.
   */
  private interval(): string {
    const start = this.index;
    const rest = this.text.slice(start);
    const match = /^\{(\d*)(?:(,)(\d*))?\}/.exec(rest);
    if (match === null) {
      if (/^\{\}/.test(rest) || /^\{\d*,\d*,/.test(rest)) {
        throw new EreError("invalid content of {} (write {n}, {n,}, {,m} or {n,m})", start);
      }
      throw new EreError(
        "{ does not start an interval {n}, {n,}, {,m} or {n,m}; write \\{ for a literal brace",
        start,
      );
    }
    const [whole, minText = "", comma, maxText = ""] = match;
    if (minText === "" && comma === undefined) {
      throw new EreError("invalid content of {} (write {n}, {n,}, {,m} or {n,m})", start);
    }
    const min = minText === "" ? 0 : Number(minText);
    const max = comma === undefined ? min : maxText === "" ? undefined : Number(maxText);
    if (min > REPETITION_MAX || (max !== undefined && max > REPETITION_MAX)) {
      throw new EreError(
        `repetition count above ${REPETITION_MAX} (grep: "regular expression too big")`,
        start,
      );
    }
    if (max !== undefined && min > max) {
      throw new EreError(
        `invalid interval {${minText},${maxText}}: the minimum is larger than the maximum`,
        start,
      );
    }
    this.index += whole.length;
    if (comma === undefined) return `{${min}}`;
    return max === undefined ? `{${min},}` : `{${min},${max}}`;
  }

  private atom(depth: number): Piece {
    const start = this.index;
    const char = this.text[start];
    this.index++;
    switch (char) {
      case "(": {
        const inner = this.alternation(depth + 1);
        if (this.peek() !== ")")
          throw new EreError("unmatched ( — write \\( for a literal parenthesis", start);
        this.index++;
        return { source: `(?:${inner})`, kind: "atom" };
      }
      case "[":
        return { source: this.bracket(start), kind: "atom" };
      case ".":
        return { source: "[^\\n]", kind: "atom" };
      case "^":
        return { source: "^", kind: "anchor" };
      case "$":
        return { source: "$", kind: "anchor" };
      case "\\":
        return this.escape(start);
      default:
        return { source: literal(char ?? ""), kind: "atom" };
    }
  }

  private escape(start: number): Piece {
    const next = this.peek();
    if (next === undefined) throw new EreError("trailing backslash", start);
    this.index++;
    if (/[0-9]/.test(next)) {
      // GNU accepts `(a)\1` in -E as an extension, but back-references are not
      // POSIX ERE and have no place in an interface name pattern.
      throw new EreError(`back-reference \\${next} is not allowed in an extended regular expression`, start);
    }
    const gnu = GNU_ESCAPES[next];
    if (gnu !== undefined) {
      return {
        source: gnu,
        kind: next === "w" || next === "W" || next === "s" || next === "S" ? "atom" : "anchor",
      };
    }
    if (/[A-Za-z]/.test(next)) {
      // grep reads `\d` as a plain "d"; someone who wrote it meant a Perl class.
      const hint =
        next === "d" ? "; for a digit write [[:digit:]]" : "; write the letter without a backslash";
      throw new EreError(`\\${next} is not an egrep escape${hint}`, start);
    }
    return { source: literal(next), kind: "atom" };
  }

  /** Parses a bracket expression; the cursor is just after `[`. */
  private bracket(start: number): string {
    const text = this.text;
    let negate = false;
    if (text[this.index] === "^") {
      negate = true;
      this.index++;
    }
    const items: string[] = [];
    const close = this.findBracketEnd(start);
    const body = text.slice(start + 1, close);
    if (/^:.*:$/.test(body)) {
      throw new EreError(`character class syntax is [[:space:]], not [:space:]`, start);
    }
    while (this.index < close) {
      const element = this.bracketElement();
      if (text[this.index] === "-" && this.index + 1 < close) {
        // A range: "-" followed by something other than the closing "]".
        this.index++;
        const end = this.bracketElement();
        if (element.kind !== "char" || end.kind !== "char") {
          throw new EreError("invalid range end: a class cannot be a range endpoint", start);
        }
        if ((element.value.codePointAt(0) ?? 0) > (end.value.codePointAt(0) ?? 0)) {
          throw new EreError(`invalid range end: ${element.value}-${end.value} is backwards`, start);
        }
        items.push(`${literal(element.value)}-${literal(end.value)}`);
      } else {
        items.push(element.kind === "char" ? literal(element.value) : element.value);
      }
    }
    this.index = close + 1;
    if (items.length === 0) throw new EreError("empty bracket expression", start);
    return `[${negate ? "^" : ""}${items.join("")}]`;
  }

  /** Index of the `]` that closes the bracket opened at `start`, honouring `[:…:]`, `[.….]`, `[=…=]`. */
  private findBracketEnd(start: number): number {
    const text = this.text;
    let index = start + 1;
    if (text[index] === "^") index++;
    if (text[index] === "]") index++;
    while (index < text.length) {
      const char = text[index];
      if (char === "]") return index;
      if (char === "[" && (text[index + 1] === ":" || text[index + 1] === "." || text[index + 1] === "=")) {
        const delimiter = text[index + 1] ?? "";
        const end = text.indexOf(`${delimiter}]`, index + 2);
        if (end === -1) break;
        index = end + 2;
        continue;
      }
      index++;
    }
    throw new EreError("unmatched [ — write \\[ for a literal bracket", start);
  }

  private bracketElement(): { kind: "char"; value: string } | { kind: "class"; value: string } {
    const text = this.text;
    const char = text[this.index] ?? "";
    const next = text[this.index + 1];
    if (char === "[" && (next === ":" || next === "." || next === "=")) {
      const end = text.indexOf(`${next}]`, this.index + 2);
      const name = text.slice(this.index + 2, end);
      const at = this.index;
      this.index = end + 2;
      if (next === ":") {
        const members = POSIX_CLASSES[name];
        if (members === undefined) throw new EreError(`invalid character class name [:${name}:]`, at);
        return { kind: "class", value: members };
      }
      // Collating symbols and equivalence classes: in the C locale only single
      // characters exist (grep rejects [.space.] with "invalid collation character").
      if ([...name].length !== 1)
        throw new EreError(`invalid collation character [${next}${name}${next}]`, at);
      return { kind: "char", value: name };
    }
    const value = String.fromCodePoint(text.codePointAt(this.index) ?? 0);
    this.index += value.length;
    return { kind: "char", value };
  }
}

/**
 * Validates one egrep (POSIX ERE, GNU flavour) pattern and translates it to an
 * equivalent JavaScript RegExp. Errors carry the character index.
 *
 * Deliberately stricter than GNU grep where GNU's reading is surprising or
 * erratic, each a likely mistake in an interface pattern: back-references and
 * other digit escapes, letter escapes grep reads as plain letters (`\d`), a
 * lone `)`, a `{` that does not start an interval, and a repetition after an
 * anchor (`^*`, `\<?`).
 */
export function translateEre(pattern: string): EreTranslation {
  const parser = new EreParser(pattern);
  try {
    const source = parser.parse();
    return { ok: true, pattern, source, regex: new RegExp(source), warnings: parser.warnings };
  } catch (error) {
    if (error instanceof EreError) return { ok: false, pattern, message: error.message, index: error.index };
    // A RegExp we built failed to compile: a bug here, not in the pattern.
    throw new Error(`translating egrep pattern ${JSON.stringify(pattern)}`, { cause: error });
  }
}

/** Splits a whitespace-separated pattern list as the osSensor does. */
export function splitPatternList(value: string): string[] {
  return value.split(/\s+/).filter((part) => part !== "");
}

export type PatternListCheck =
  { ok: true; patterns: string[]; warnings: string[] } | { ok: false; problems: string[] };

/** Validates every pattern of a whitespace-separated list; problems name the pattern. */
export function checkPatternList(value: string): PatternListCheck {
  const patterns = splitPatternList(value);
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const pattern of patterns) {
    const result = translateEre(pattern);
    if (!result.ok)
      problems.push(
        `pattern ${JSON.stringify(pattern)} is not a valid egrep expression: ${result.message} (at character ${result.index + 1})`,
      );
    else warnings.push(...result.warnings.map((warning) => `pattern ${JSON.stringify(pattern)}: ${warning}`));
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, patterns, warnings };
}

// ---------------------------------------------------------------------------
// Interface selection

export type InterfaceSkipReason = "loopback" | "not_included" | "excluded" | "not_the_device";

export interface MatchInterfacesOptions {
  /** Interface names present on the node (e.g. from `ip link`). */
  names: readonly string[];
  /** NETWORK_DEVICE_INCLUDELIST patterns (egrep). */
  include?: readonly string[];
  /** NETWORK_DEVICE_EXCLUDELIST patterns (egrep). */
  exclude?: readonly string[];
  /** OSSENSOR_NETWORK_DEVICE: when set (non-empty), capture this one interface only. */
  device?: string;
  /** Defaults to the Linux loopback name `lo`. */
  isLoopback?: (name: string) => boolean;
}

export interface InterfaceSelection {
  selected: string[];
  skipped: Array<{ name: string; reason: InterfaceSkipReason }>;
}

function compileAll(patterns: readonly string[], list: string): RegExp[] {
  return patterns.map((pattern) => {
    const result = translateEre(pattern);
    if (!result.ok)
      throw new Error(`${list}: pattern ${JSON.stringify(pattern)} is invalid: ${result.message}`);
    return result.regex;
  });
}

/**
 * Chooses the interfaces to capture on, with the osSensor's rules:
 *
 * - `device` set: exactly that interface (by exact name), lists ignored —
 *   an explicit device is the most specific instruction an operator can give.
 * - no lists: every interface except loopback;
 * - include list: only interfaces matching at least one include pattern
 *   (loopback only if an include pattern matches it: asking for it is explicit);
 * - exclude list: interfaces matching any exclude pattern are dropped, even
 *   when included — the exclude list wins.
 *
 * Run it again for interfaces that appear later when NETWORK_DEVICE_ANY=1.
 * Throws on an invalid pattern: validate settings first.
 */
export function matchInterfaces(options: MatchInterfacesOptions): InterfaceSelection {
  const isLoopback = options.isLoopback ?? ((name: string) => name === "lo");
  const selection: InterfaceSelection = { selected: [], skipped: [] };
  if (options.device !== undefined && options.device !== "") {
    for (const name of options.names) {
      if (name === options.device) selection.selected.push(name);
      else selection.skipped.push({ name, reason: "not_the_device" });
    }
    return selection;
  }
  const include = compileAll(options.include ?? [], "NETWORK_DEVICE_INCLUDELIST");
  const exclude = compileAll(options.exclude ?? [], "NETWORK_DEVICE_EXCLUDELIST");
  for (const name of options.names) {
    const included = include.some((regex) => regex.test(name));
    if (exclude.some((regex) => regex.test(name))) selection.skipped.push({ name, reason: "excluded" });
    else if (include.length > 0 && !included) selection.skipped.push({ name, reason: "not_included" });
    else if (isLoopback(name) && !included) selection.skipped.push({ name, reason: "loopback" });
    else selection.selected.push(name);
  }
  return selection;
}
