/** Applies C escapes (\r \n \t \\ \0 \xhh \ooo) as a camera job's format string does. */
export function unescapeC(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, code: string) => {
    if (code[0] === "x") return String.fromCharCode(Number.parseInt(code.slice(1), 16));
    if (/^[0-7]+$/.test(code)) return String.fromCharCode(Number.parseInt(code, 8));
    const simple: Record<string, string> = {
      r: "\r",
      n: "\n",
      t: "\t",
      "\\": "\\",
      a: "\x07",
      b: "\b",
      f: "\f",
      v: "\v",
      '"': '"',
      "'": "'",
    };
    return simple[code] ?? code;
  });
}
