// Runs every bench/*.bench.mjs, prints one table and writes bench/results/latest.json.
// Each benchmark measures its baseline in the same run, so the ratio holds on a shared, noisy machine.
import { readdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv[2];

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1), runs: samples.length };
}

const figures = [];
for (const file of readdirSync(here)
  .filter((f) => f.endsWith(".bench.mjs"))
  .sort()) {
  if (only && !file.includes(only)) continue;
  const module = await import(pathToFileURL(`${here}${file}`).href);
  for (const figure of await module.run()) {
    const result = { bench: file, name: figure.name, unit: figure.unit, ...summary(figure.samples) };
    if (figure.baseline) {
      result.baseline = { name: figure.baseline.name, ...summary(figure.baseline.samples) };
      result.ratio = result.median / result.baseline.median;
    }
    if (figure.goal) result.goal = figure.goal;
    figures.push(result);
  }
}

const fmt = (n) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));
const rows = figures.map((f) => [
  f.name,
  `${fmt(f.median)} ${f.unit}`,
  `${fmt(f.min)}..${fmt(f.max)}`,
  f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.median)} ${f.unit}` : "",
  f.ratio === undefined ? "" : `${f.ratio.toFixed(2)}x`,
  f.goal ?? "",
]);
const header = ["figure", "median", "min..max", "baseline (same run)", "ratio", "goal"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(line(header));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const row of rows) console.log(line(row));

const machine = {
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryBytes: totalmem(),
  node: process.version,
};
writeFileSync(
  `${here}results/latest.json`,
  `${JSON.stringify({ date: new Date().toISOString(), machine, figures }, null, 2)}\n`,
);
