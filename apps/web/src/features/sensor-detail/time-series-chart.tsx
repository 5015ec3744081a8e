"use client";

// A uPlot chart as a React component: created once per set of series, fed new data with
// setData (cheap: uPlot redraws a canvas), resized with its container, themed from Mantine.
import { Box, useComputedColorScheme, useMantineTheme } from "@mantine/core";
import { useElementSize } from "@mantine/hooks";
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatDateTime, formatTimeTicks } from "@/lib/format";
import { formatRate, latestValue } from "./units";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

const PALETTE = ["blue", "teal", "grape", "orange", "cyan", "pink", "lime", "indigo"] as const;

export function TimeSeriesChart({
  label,
  unit,
  timestamps,
  series,
  height = 220,
  sparkline = false,
}: {
  /** Names the chart for assistive technology and tests. */
  label: string;
  unit: string;
  /** Epoch seconds. */
  timestamps: number[];
  series: ChartSeries[];
  height?: number;
  /** A bare line for tables and tiles: no axes, legend or cursor. */
  sparkline?: boolean;
}) {
  const theme = useMantineTheme();
  const scheme = useComputedColorScheme("light");
  const { ref: sizeRef, width } = useElementSize();
  const target = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labels = series.map((s) => s.label).join("\n");

  const data = useMemo(
    () => [timestamps, ...series.map((s) => s.values)] as uPlot.AlignedData,
    [timestamps, series],
  );

  // Recreated when what is drawn changes shape (interfaces, theme); otherwise only fed data.
  useEffect(() => {
    if (!target.current || width === 0) return;
    const dark = scheme === "dark";
    const axis: uPlot.Axis = {
      stroke: dark ? theme.colors.dark[1] : theme.colors.gray[7],
      grid: { stroke: dark ? theme.colors.dark[4] : theme.colors.gray[2], width: 1 },
      ticks: { stroke: dark ? theme.colors.dark[4] : theme.colors.gray[3], width: 1 },
      font: `12px ${theme.fontFamily ?? "sans-serif"}`,
    };
    const options: uPlot.Options = {
      width,
      height,
      cursor: sparkline ? { show: false } : { drag: { x: true, y: false } },
      legend: { show: !sparkline, live: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: sparkline
        ? [{ show: false }, { show: false }]
        : [
            // The dashboard's date style (24-hour clock, day before month), not uPlot's US default.
            { ...axis, values: (_u, splits, _axis, _space, step) => formatTimeTicks(splits, step) },
            { ...axis, size: 80, values: (_u, splits) => splits.map((v) => formatRate(v, unit)) },
          ],
      series: [
        // Without the cursor on the chart the legend reads the latest point, instead of uPlot's "--".
        {
          label: "Time",
          value: (_u: uPlot, v: number | null, _s: number, idx: number | null) =>
            idx === null || v === null ? "latest" : formatDateTime(new Date(v * 1000).toISOString()),
        },
        ...labels.split("\n").map((name, index) => {
          const color = theme.colors[PALETTE[index % PALETTE.length]!][dark ? 4 : 6];
          return {
            label: name,
            stroke: color,
            width: 1.5,
            fill: `${color}1a`,
            spanGaps: false,
            points: { show: false },
            value: (u: uPlot, v: number | null, sidx: number, idx: number | null) =>
              formatRate(idx === null ? latestValue(u.data[sidx]) : v, unit),
          };
        }),
      ],
    };
    const created = new uPlot(options, data, target.current);
    plot.current = created;
    return () => {
      created.destroy();
      plot.current = null;
    };
    // data is fed by the effect below; recreating on every point would lose the cursor.
  }, [labels, scheme, unit, height, theme, sparkline, width === 0]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  useEffect(() => {
    if (width > 0) plot.current?.setSize({ width, height });
  }, [width, height]);

  return (
    <Box ref={sizeRef} w="100%">
      <div ref={target} role="img" aria-label={label} data-points={timestamps.length} />
    </Box>
  );
}
