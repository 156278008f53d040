import { describe, expect, it } from "vitest";
import { unescapeC } from "../../../src/camera/serial/escapes.js";
import { type Framing, LineFramer } from "../../../src/camera/serial/framing.js";
import { csvParser, formatParser, ParseError, regexParser } from "../../../src/camera/serial/parsers.js";
import { ManualClock } from "../../support/manual-clock.js";

function framer(framing: Framing, maxLineLength = 64, clock = new ManualClock()) {
  const lines: string[] = [];
  let overlong = 0;
  const f = new LineFramer({
    framing,
    maxLineLength,
    clock,
    onLine: (l) => lines.push(l.toString("latin1")),
    onOverlong: () => overlong++,
  });
  return { f, lines, overlong: () => overlong, clock };
}

describe("C escapes", () => {
  it("applies \\r \\n \\t \\\\ \\xhh and octal", () => {
    expect(unescapeC("a\\r\\n\\t\\\\\\x41\\101")).toBe("a\r\n\t\\AA");
  });
});

describe("LineFramer", () => {
  it("splits on a terminator across writes, many lines per write", () => {
    const { f, lines } = framer({ mode: "terminator", terminator: "\r\n" });
    f.push(Buffer.from("PASS,1\r"));
    f.push(Buffer.from("\nFAIL,2\r\nPASS,3\r\nPA"));
    f.push(Buffer.from("SS,4\r\n"));
    expect(lines).toEqual(["PASS,1", "FAIL,2", "PASS,3", "PASS,4"]);
  });

  it("counts an overlong line, skips it to the next terminator, and holds no more than the maximum", () => {
    const { f, lines, overlong } = framer({ mode: "terminator", terminator: "\n" }, 8);
    f.push(Buffer.from("ok1\n0123456789"));
    f.push(Buffer.from("abcdefghijkl"));
    f.push(Buffer.from("mnop\nok2\n"));
    expect(lines).toEqual(["ok1", "ok2"]);
    expect(overlong()).toBe(1);
  });

  it("cuts fixed-length records", () => {
    const { f, lines } = framer({ mode: "fixedLength", length: 4 });
    f.push(Buffer.from("AAAABB"));
    f.push(Buffer.from("BBCCCCD"));
    expect(lines).toEqual(["AAAA", "BBBB", "CCCC"]);
  });

  it("ends a line after a quiet time", async () => {
    const { f, lines, clock } = framer({ mode: "quiet", quietMs: 50 });
    f.push(Buffer.from("no terminator "));
    await clock.advance(30);
    f.push(Buffer.from("at all"));
    await clock.advance(49);
    expect(lines).toEqual([]);
    await clock.advance(1);
    expect(lines).toEqual(["no terminator at all"]);
    expect(clock.pending).toBe(0);
  });
});

describe("format parser", () => {
  it("parses the job's own format: strings, integers, fixed decimals", () => {
    const parse = formatParser("%s,%d,%.3f,%s\\r\\n", ["result", "cycle", "area", "lot"], "\r\n");
    expect(parse("PASS,12,23.400,LOT-95028")).toEqual({
      result: "PASS",
      cycle: 12,
      area: 23.4,
      lot: "LOT-95028",
    });
  });

  it("understands %%, widths, flags, negative numbers, exponents and hex", () => {
    const parse = formatParser("ID=%05d X=%+8.2f Y=%-6s| %e %x 100%% %c", [
      "id",
      "x",
      "y",
      "e",
      "code",
      "flag",
    ]);
    expect(parse("ID=00042 X=  -12.50 Y=ab    | -1.5e-03 ff 100% Z")).toEqual({
      id: 42,
      x: -12.5,
      y: "ab",
      e: -0.0015,
      code: 255,
      flag: "Z",
    });
  });

  it("takes strings with the separator in them where the rest still matches", () => {
    expect(formatParser("%s;%d", ["text", "n"])("a;b;7")).toEqual({ text: "a;b", n: 7 });
  });

  it("keeps non-ASCII latin1 text", () => {
    const line = Buffer.from([0x54, 0x3d, 0xb0, 0x43, 0x2c, 0x35]).toString("latin1");
    expect(formatParser("T=%s,%d", ["unit", "n"])(line)).toEqual({ unit: "°C", n: 5 });
  });

  it("rejects a line that does not match, naming the format", () => {
    const parse = formatParser("%d,%d", ["a", "b"]);
    expect(() => parse("1;2")).toThrow(ParseError);
    expect(() => parse("1,x")).toThrow(/does not match/);
  });

  it("refuses at set-up a format whose conversions and names do not agree", () => {
    expect(() => formatParser("%d,%d", ["only"])).toThrow(/2 conversions but 1/);
  });
});

describe("regex and csv parsers", () => {
  it("converts named groups to their types", () => {
    const parse = regexParser("^(?<ok>PASS|FAIL) c=(?<cycle>\\d+) v=(?<v>\\S+)$", {
      ok: "bool",
      cycle: "int",
      v: "float",
    });
    expect(parse("PASS c=7 v=1e3")).toEqual({ ok: true, cycle: 7, v: 1000 });
    expect(() => parse("PASS c=7 v=abc")).toThrow(/not a number/);
  });

  it("splits CSV with quotes and empty fields", () => {
    const parse = csvParser({
      delimiter: ",",
      quote: '"',
      names: ["name", "count", "note"],
      types: { count: "int" },
    });
    expect(parse('"a, b",,"say ""hi"""')).toEqual({ name: "a, b", count: null, note: 'say "hi"' });
    expect(() => parse("a,1")).toThrow(/2 fields, 3 expected/);
  });
});
