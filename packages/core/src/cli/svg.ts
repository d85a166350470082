/**
 * The report's charts as SVG strings, drawn here rather than in the browser so the HTML file
 * shows them with scripts off and needs no chart library (no network, no CDN). Every piece of
 * text from the log (actor ids, reasons) is escaped: a log is attacker-influenced input, and an
 * actor named `<script>` must stay a name.
 */
import type { Verdict } from '../types.js';
import { utcMinute, utcMinuteNoYear } from './time-text.js';
import { bucketLabel, type Bucket } from './timeline.js';

export const VERDICT_COLORS: Readonly<Record<Verdict, string>> = { allow: '#2e9d5b', challenge: '#d9a300', throttle: '#e8702a', block: '#c8323c' };
const VERDICTS: readonly Verdict[] = ['allow', 'challenge', 'throttle', 'block'];

/** Text for HTML and SVG, in element content and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const int = (n: number) => Math.round(n).toLocaleString('en');
const utc = utcMinute;

/** A round axis maximum (1, 2, 5 × 10^k) at or above `max`, and its tick step. */
export function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const rounded = Math.max(1, step);
  return { top: Math.ceil(max / rounded) * rounded, step: rounded };
}

export interface TimelineChartOptions {
  width?: number;
  height?: number;
}

/**
 * Verdicts over time as stacked bars, allow at the bottom. Each bar segment carries its verdict
 * and count (`data-verdict`, `data-count`) and a `<title>` tooltip; the page's script restacks
 * the segments when a verdict is hidden.
 */
export function timelineChart(buckets: readonly Bucket[], bucketMs: number, options: TimelineChartOptions = {}): string {
  const width = options.width ?? 960;
  const height = options.height ?? 280;
  const left = 56;
  const right = 12;
  const top = 12;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const totals = buckets.map((b) => VERDICTS.reduce((n, v) => n + b.verdicts[v], 0));
  const { top: yMax, step } = niceScale(Math.max(0, ...totals));
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, slot * 0.8);
  const y = (value: number) => top + plotH - (value / yMax) * plotH;
  const parts: string[] = [];
  parts.push(`<svg id="chart-timeline" class="chart" role="img" aria-label="Verdicts over time" viewBox="0 0 ${width} ${height}" width="100%" data-ymax="${yMax}" data-plot-top="${top}" data-plot-height="${plotH}" xmlns="http://www.w3.org/2000/svg">`);
  for (let t = 0; t <= yMax; t += step) {
    parts.push(`<line class="grid" x1="${left}" x2="${width - right}" y1="${num(y(t))}" y2="${num(y(t))}"/><text class="axis" x="${left - 6}" y="${num(y(t) + 4)}" text-anchor="end">${int(t)}</text>`);
  }
  buckets.forEach((bucket, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let base = 0;
    parts.push(`<g class="bucket" data-start="${bucket.start}">`);
    for (const verdict of VERDICTS) {
      const count = bucket.verdicts[verdict];
      const h = (count / yMax) * plotH;
      parts.push(
        `<rect class="bar v-${verdict}" data-verdict="${verdict}" data-count="${count}" x="${num(x)}" y="${num(y(base + count))}" width="${num(barW)}" height="${num(h)}" fill="${VERDICT_COLORS[verdict]}"><title>${escapeHtml(`${utc(bucket.start)} UTC (${bucketLabel(bucketMs)} bucket): ${verdict} ${int(count)}`)}</title></rect>`,
      );
      base += count;
    }
    parts.push('</g>');
  });
  // About eight time labels, whatever the number of buckets.
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((bucket, i) => {
    if (i % every !== 0) return;
    const x = left + i * slot + slot / 2;
    parts.push(`<text class="axis" x="${num(x)}" y="${height - bottom + 16}" text-anchor="middle">${escapeHtml(utcMinuteNoYear(bucket.start))}</text>`);
  });
  parts.push(`<line class="axis-line" x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}"/>`);
  parts.push('</svg>');
  return parts.join('');
}

export interface BarRow {
  label: string;
  value: number;
  /** Tooltip; defaults to `label: value`. */
  title?: string;
  color?: string;
}

/** Horizontal bars with labels on the left and values on the right. */
export function barChart(id: string, rows: readonly BarRow[], options: { width?: number; label?: string } = {}): string {
  const width = options.width ?? 960;
  const rowH = 24;
  const labelW = 300;
  const valueW = 90;
  const height = Math.max(1, rows.length) * rowH + 8;
  const plotW = width - labelW - valueW;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const parts = [`<svg id="${escapeHtml(id)}" class="chart" role="img" aria-label="${escapeHtml(options.label ?? id)}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">`];
  rows.forEach((row, i) => {
    const y = 4 + i * rowH;
    const w = Math.max(1, (row.value / max) * plotW);
    const label = row.label.length > 44 ? `${row.label.slice(0, 43)}…` : row.label;
    parts.push(
      `<g class="row"><title>${escapeHtml(row.title ?? `${row.label}: ${int(row.value)}`)}</title>` +
        `<text class="label" x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(label)}</text>` +
        `<rect class="bar" data-label="${escapeHtml(row.label)}" data-count="${row.value}" x="${labelW}" y="${y + 3}" width="${num(w)}" height="${rowH - 6}" fill="${row.color ?? '#4a6fa5'}"/>` +
        `<text class="value" x="${num(labelW + w + 6)}" y="${y + 16}">${int(row.value)}</text></g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
