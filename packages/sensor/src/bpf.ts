// A light pre-check of a BPF filter expression (pcap-filter(7) syntax).
//
// The agent compiles the filter with libpcap's pcap_compile, which is the only
// real judge. This check exists so that the dashboard, CLI and API can refuse
// the obvious mistakes (unbalanced parentheses, a dangling `and`, a misspelt
// primitive) before a rollout restarts every sensor pod with a filter that
// will not compile. It accepts some expressions libpcap rejects; it must never
// reject one libpcap accepts, so when in doubt it says yes.

export type BpfCheck = { ok: true } | { ok: false; message: string; index: number };

// Every keyword pcap-filter(7) knows. A word in a position where a primitive
// must start, that is none of these and not a number, is a typo.
const KEYWORDS = new Set([
  // qualifiers
  "host",
  "net",
  "port",
  "portrange",
  "src",
  "dst",
  "gateway",
  "proto",
  "protochain",
  "mask",
  "ether",
  "fddi",
  "tr",
  "wlan",
  "ip",
  "ip6",
  "arp",
  "rarp",
  "decnet",
  "tcp",
  "udp",
  "sctp",
  "icmp",
  "icmp6",
  "igmp",
  "igrp",
  "pim",
  "ah",
  "esp",
  "vrrp",
  "carp",
  "atalk",
  "aarp",
  "iso",
  "stp",
  "ipx",
  "netbeui",
  "lat",
  "moprc",
  "mopdl",
  "sca",
  "llc",
  "isis",
  "clnp",
  "esis",
  "es-is",
  "is-is",
  "l1",
  "l2",
  "iih",
  "lsp",
  "snp",
  "csnp",
  "psnp",
  "ra",
  "ta",
  "addr1",
  "addr2",
  "addr3",
  "addr4",
  // primitives
  "broadcast",
  "multicast",
  "less",
  "greater",
  "len",
  "inbound",
  "outbound",
  "ifname",
  "on",
  "rnr",
  "rulenum",
  "reason",
  "rset",
  "ruleset",
  "srnr",
  "subrulenum",
  "action",
  "type",
  "subtype",
  "dir",
  "vlan",
  "mpls",
  "pppoed",
  "pppoes",
  "geneve",
  "vxlan",
  "atm",
  "lane",
  "oamf4s",
  "oamf4e",
  "oamf4",
  "oam",
  "metac",
  "bcc",
  "sc",
  "ilmic",
  "connectmsg",
  "metaconnect",
  "vpi",
  "vci",
  "fisu",
  "lssu",
  "msu",
  "hfisu",
  "hlssu",
  "hmsu",
  "sio",
  "opc",
  "dpc",
  "sls",
  "hsio",
  "hopc",
  "hdpc",
  "hsls",
  "ifindex",
  "ipx",
  "link",
  "slip",
  "ppp",
  "radio",
]);

const BINARY_LOGICAL = new Set(["and", "or", "&&", "||"]);
const NEGATION = new Set(["not", "!"]);

interface Token {
  text: string;
  index: number;
}

// Words (hosts, networks, MAC addresses, keywords, numbers), parentheses and
// brackets, and operators. Anything else is passed through as one character.
// A backslash may precede a protocol name used as a value (`ip proto \tcp`).
const TOKEN = /\s*(&&|\|\||<<|>>|<=|>=|==|!=|\\?[A-Za-z0-9_.:\-/]+|[()[\]!<>=+\-*/%&|^:])/y;

function tokenize(expression: string): Token[] | { message: string; index: number } {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let index = 0;
  while (index < expression.length) {
    if (/^\s*$/.test(expression.slice(index))) break;
    TOKEN.lastIndex = index;
    const match = TOKEN.exec(expression);
    if (match === null) {
      const at = index + (/^\s*/.exec(expression.slice(index))?.[0].length ?? 0);
      return { message: `unexpected character ${JSON.stringify(expression[at])}`, index: at };
    }
    const text = match[1] ?? "";
    tokens.push({ text, index: match.index + match[0].length - text.length });
    index = TOKEN.lastIndex;
  }
  return tokens;
}

/**
 * Pre-checks a BPF filter expression. An empty expression is valid (no filter).
 * Not a compiler: the agent's libpcap decides; see the module comment.
 */
export function checkBpfFilter(expression: string): BpfCheck {
  if (/[^\x20-\x7e\t\n\r]/.test(expression)) {
    const index = expression.search(/[^\x20-\x7e\t\n\r]/);
    return { ok: false, message: "contains a character that is not printable ASCII", index };
  }
  const tokens = tokenize(expression);
  if (!Array.isArray(tokens)) return { ok: false, ...tokens };
  if (tokens.length === 0) return { ok: true };

  const stack: Token[] = [];
  let expectTerm = true; // at the start, after `(`, after and/or/not
  // `port 80 or 443` and `host a or b` reuse the qualifiers of the last
  // primitive that had a value, so a bare word is fine after one of those.
  let canInheritQualifiers = false;
  for (const [position, token] of tokens.entries()) {
    const word = token.text.toLowerCase();
    if (token.text === "(" || token.text === "[") {
      if (token.text === "(" && tokens[position + 1]?.text === ")") {
        return { ok: false, message: "empty parentheses", index: token.index };
      }
      stack.push(token);
      expectTerm = token.text === "(";
      continue;
    }
    if (token.text === ")" || token.text === "]") {
      const open = stack.pop();
      const wanted = token.text === ")" ? "(" : "[";
      if (open?.text !== wanted) {
        return { ok: false, message: `unmatched ${token.text}`, index: token.index };
      }
      if (expectTerm && token.text === ")") {
        return { ok: false, message: "an operator before ) has nothing after it", index: token.index };
      }
      expectTerm = false;
      continue;
    }
    if (BINARY_LOGICAL.has(word)) {
      if (expectTerm) {
        return { ok: false, message: `"${token.text}" needs an expression before it`, index: token.index };
      }
      expectTerm = true;
      continue;
    }
    if (NEGATION.has(word)) {
      expectTerm = true;
      continue;
    }
    // `len-1` tokenizes as one word: judge its leading name.
    const name = word.split(/[-+*/]/)[0] ?? word;
    if (
      expectTerm &&
      stack.at(-1)?.text !== "[" &&
      /^[a-z]/.test(word) &&
      !KEYWORDS.has(word) &&
      !KEYWORDS.has(name) &&
      !canInheritQualifiers
    ) {
      return { ok: false, message: `unknown primitive "${token.text}"`, index: token.index };
    }
    if (stack.at(-1)?.text !== "[" && !KEYWORDS.has(word) && /^[a-z0-9]/.test(word))
      canInheritQualifiers = true;
    expectTerm = false;
  }
  const open = stack.pop();
  if (open !== undefined) return { ok: false, message: `unmatched ${open.text}`, index: open.index };
  if (expectTerm) {
    const last = tokens.at(-1);
    return {
      ok: false,
      message: `"${last?.text ?? ""}" needs an expression after it`,
      index: last?.index ?? 0,
    };
  }
  return { ok: true };
}
