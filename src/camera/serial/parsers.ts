import { unescapeC } from "./escapes.js";

export type FieldType = "int" | "float" | "hex" | "octal" | "string" | "char" | "bool";
export type FieldValue = number | string | boolean | null;
export type Fields = Record<string, FieldValue>;
/** Parses one line (terminator removed) into named, typed fields, or throws ParseError. */
export type LineParser = (line: string) => Fields;

export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParseError";
  }
}

const FLOAT = String.raw`[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])`;

/** Turns the text of one field into a value of its type; an empty field is null. */
export function convert(type: FieldType, text: string, name: string): FieldValue {
  const value = type === "string" || type === "char" ? text : text.trim();
  if (value === "" && type !== "string") return null;
  switch (type) {
    case "int": {
      if (!/^[+-]?\d+$/.test(value)) throw new ParseError(`${name}: "${text}" is not an integer`);
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw new ParseError(`${name}: ${value} is beyond ±(2^53-1)`);
      return n;
    }
    case "float": {
      if (!new RegExp(`^${FLOAT}$`).test(value)) throw new ParseError(`${name}: "${text}" is not a number`);
      const lower = value.toLowerCase().replace(/^\+/, "");
      if (lower.endsWith("nan")) return Number.NaN;
      if (lower.includes("inf"))
        return lower.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      return Number(value);
    }
    case "hex": {
      const digits = value.replace(/^0[xX]/, "");
      if (!/^[0-9a-fA-F]+$/.test(digits)) throw new ParseError(`${name}: "${text}" is not hexadecimal`);
      return Number.parseInt(digits, 16);
    }
    case "octal":
      if (!/^[0-7]+$/.test(value)) throw new ParseError(`${name}: "${text}" is not octal`);
      return Number.parseInt(value, 8);
    case "bool": {
      const lower = value.toLowerCase();
      if (["1", "true", "yes", "on", "pass", "ok"].includes(lower)) return true;
      if (["0", "false", "no", "off", "fail", "ng"].includes(lower)) return false;
      throw new ParseError(`${name}: "${text}" is not a boolean`);
    }
    case "char":
      return value;
    default:
      return value;
  }
}

interface Conversion {
  readonly pattern: string;
  readonly type: FieldType;
  readonly padded: boolean;
}

function conversion(flags: string, width: string, precision: string, conv: string): Conversion {
  const padded = width !== "";
  const pad = padded ? String.raw`\s*` : "";
  switch (conv) {
    case "d":
    case "i":
      return { pattern: `${pad}[+-]?\\s*\\d+`, type: "int", padded };
    case "u":
      return { pattern: `${pad}\\+?\\d+`, type: "int", padded };
    case "o":
      return { pattern: `${pad}[0-7]+`, type: "octal", padded };
    case "x":
    case "X":
    case "p":
      return { pattern: `${pad}(?:0[xX])?[0-9a-fA-F]+`, type: "hex", padded };
    case "c":
      return { pattern: `${pad}[\\s\\S]`, type: "char", padded };
    case "s": {
      const most = /^\.\d+$/.test(precision) ? `{0,${precision.slice(1)}}` : "*?";
      return {
        pattern: flags.includes("-") ? `[\\s\\S]${most}\\s*` : `${pad}[\\s\\S]${most}`,
        type: "string",
        padded,
      };
    }
    default:
      return { pattern: `${pad}${FLOAT}`, type: "float", padded };
  }
}

const SPEC = /%([-+ #0']*)(\d+|\*)?(\.\d*|\.\*)?(hh|h|ll|l|L|z|j|t|q)?([diuoxXfFeEgGaAcsp%])/g;

/**
 * A parser from the printf-style format the job writes with (`%s,%d,%.3f,%s\r\n`): each
 * conversion becomes a field, named in order; literal text must match. `%%` is a literal percent.
 */
export function formatParser(format: string, names: readonly string[], terminator = ""): LineParser {
  let text = unescapeC(format);
  if (terminator && text.endsWith(terminator)) text = text.slice(0, -terminator.length);
  const parts: string[] = [];
  const fields: Conversion[] = [];
  let last = 0;
  for (const match of text.matchAll(SPEC)) {
    const [whole, flags = "", width = "", precision = "", , conv = ""] = match;
    parts.push(escapeRegex(text.slice(last, match.index)));
    last = (match.index ?? 0) + whole.length;
    if (conv === "%") {
      parts.push("%");
      continue;
    }
    const c = conversion(flags, width === "*" ? "1" : width, precision, conv);
    fields.push(c);
    parts.push(`(${c.pattern})`);
  }
  parts.push(escapeRegex(text.slice(last)));
  if (fields.length !== names.length) {
    throw new RangeError(
      `the format has ${fields.length} conversions but ${names.length} field names are given`,
    );
  }
  const regex = new RegExp(`^${parts.join("")}$`);
  return (line) => {
    const match = regex.exec(line);
    if (!match) throw new ParseError(`does not match the format ${JSON.stringify(format)}`);
    const out: Fields = {};
    fields.forEach((field, i) => {
      const name = names[i] as string;
      const raw = match[i + 1] ?? "";
      out[name] = convert(field.type, field.type === "string" && field.padded ? raw.trim() : raw, name);
    });
    return out;
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A parser from a regular expression with named groups, each converted to its type (string by default). */
export function regexParser(pattern: string, types: Readonly<Record<string, FieldType>>): LineParser {
  const regex = new RegExp(pattern);
  return (line) => {
    const match = regex.exec(line);
    if (!match?.groups) throw new ParseError(`does not match /${pattern}/`);
    const out: Fields = {};
    for (const [name, raw] of Object.entries(match.groups))
      out[name] = raw === undefined ? null : convert(types[name] ?? "string", raw, name);
    return out;
  };
}

/** Splits one CSV record; a quoted field may hold the delimiter and a doubled quote. */
export function splitCsv(line: string, delimiter: string, quote: string | undefined): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote && ch === quote) {
      if (quoted && line[i + 1] === quote) {
        field += quote;
        i++;
      } else quoted = !quoted;
    } else if (!quoted && line.startsWith(delimiter, i)) {
      out.push(field);
      field = "";
      i += delimiter.length - 1;
    } else field += ch;
  }
  if (quoted) throw new ParseError("a quoted field is not closed");
  out.push(field);
  return out;
}

export function csvParser(options: {
  delimiter: string;
  quote?: string | undefined;
  names: readonly string[];
  types?: Readonly<Record<string, FieldType>> | undefined;
}): LineParser {
  return (line) => {
    const values = splitCsv(line, options.delimiter, options.quote);
    if (values.length !== options.names.length)
      throw new ParseError(`${values.length} fields, ${options.names.length} expected`);
    const out: Fields = {};
    options.names.forEach((name, i) => {
      out[name] = convert(options.types?.[name] ?? "string", values[i] ?? "", name);
    });
    return out;
  };
}
