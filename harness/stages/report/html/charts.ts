// The benchmark as inline SVG, drawn in Node by Apache ECharts' server-side renderer (no DOM, no canvas,
// no script in the page: the SVG is markup; ECharts escapes the labels it writes). Loaded only when a run
// has figures: the bundle takes ~0.3-0.8 s to load.
import { createRequire } from "node:module";
import { trusted, type Html } from "./escape.ts";
import { pathName, sizeOrder, type Bench } from "./bench.ts";

type ECharts = typeof import("echarts");
let loaded: ECharts | undefined;
function echarts(): ECharts {
  // The single CommonJS bundle: one file to read, where the ES module entry is hundreds.
  loaded ??= createRequire(import.meta.url)("echarts") as ECharts;
  return loaded;
}

export interface Chart {
  title: string;
  svg: Html;
}

interface BarSeries {
  name: string;
  values: (number | null)[];
}

function barChart(title: string, categories: string[], series: BarSeries[], unit: string, log: boolean): Chart {
  const e = echarts();
  const width = Math.max(420, Math.min(1100, 120 + categories.length * series.length * 34));
  const chart = e.init(null, null, { renderer: "svg", ssr: true, width, height: 300 });
  chart.setOption({
    animation: false,
    title: { text: title, left: 8, top: 4, textStyle: { fontSize: 13 } },
    legend: { top: 26, left: 8, itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 11 } },
    grid: { left: 72, right: 16, top: 40 + 18 * Math.ceil(series.length / 4), bottom: 32 },
    xAxis: { type: "category", data: categories },
    yAxis: {
      type: log ? "log" : "value",
      name: `${unit}${log ? " (log)" : ""}`,
      nameLocation: "middle",
      nameGap: 56,
      nameTextStyle: { fontSize: 11 },
      axisLabel: { fontSize: 11 },
    },
    series: series.map((s) => ({
      name: s.name,
      type: "bar",
      data: s.values,
      label: { show: true, position: "top", fontSize: 9, formatter: (p: { value: number }) => short(p.value) },
    })),
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return { title, svg: trusted(svg) };
}

function short(v: number): string {
  if (v >= 10_000) return `${Math.round(v / 1000)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return String(Number(v.toPrecision(3)));
}

/** Requests per second and p50/p99 latency per size and path (and depth), processes on one device. */
export function benchCharts(bench: Bench): Chart[] {
  const charts: Chart[] = [];
  const sizes = [...new Set(bench.points.map((p) => p.size))].sort(sizeOrder);
  const lines = [...new Set(bench.points.map((p) => pathName(p.path, p.depth)))];
  const seriesFor = (figure: string, suffix = "") =>
    lines
      .map((line) => ({
        name: `${line}${suffix}`,
        values: sizes.map((size) => bench.points.find((p) => p.figure === figure && p.size === size && pathName(p.path, p.depth) === line)?.value ?? null),
      }))
      .filter((s) => s.values.some((v) => v !== null));
  const rps = seriesFor("req_per_s");
  if (rps.length > 0) charts.push(barChart("Requests per second, by size and path", sizes, rps, "req/s", spread(rps) > 30));
  for (const [figure, name] of [
    ["p50_us", "p50"],
    ["p99_us", "p99"],
  ] as const) {
    const latency = seriesFor(figure);
    if (latency.length > 0) charts.push(barChart(`Latency per request, ${name}, by size and path`, sizes, latency, "µs", spread(latency) > 30));
  }
  if (bench.procs.length > 0) {
    const counts = [...new Set(bench.procs.map((p) => p.procs))].sort((a, b) => a - b);
    const paths = [...new Set(bench.procs.map((p) => `${pathName(p.path)} ${p.size}`))];
    const series = paths.map((name) => ({
      name,
      values: counts.map((n) => bench.procs.find((p) => p.procs === n && `${pathName(p.path)} ${p.size}` === name)?.value ?? null),
    }));
    charts.push(
      barChart(
        "Processes on one device: requests per second, all together",
        counts.map((n) => `${n} process${n > 1 ? "es" : ""}`),
        series,
        "req/s",
        false,
      ),
    );
  }
  return charts;
}

function spread(series: BarSeries[]): number {
  const values = series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
  return values.length ? Math.max(...values) / Math.min(...values) : 1;
}
