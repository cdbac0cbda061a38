// A small multi-panel line chart (SVG, rendered to PNG by resvg): one panel per scenario, one line
// per NUMA node, x = seconds, y = resident pages of the guest RAM on that node.
import { Resvg } from '@resvg/resvg-js';

export interface Series { t: number[]; nodes: Record<string, number[]> }
export interface Panel { title: string; series: Series }

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Panels left to right, `columns` to a row (default: all in one row). */
export function chartSvg(title: string, panels: Panel[], columns = panels.length): string {
  const W = 420, H = 300, pad = { l: 60, r: 15, t: 40, b: 40 };
  const cols = Math.max(1, Math.min(columns, panels.length));
  const width = W * cols, height = H * Math.ceil(panels.length / cols) + 30;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`;
  svg += `<rect width="100%" height="100%" fill="white"/><text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${esc(title)}</text>`;
  panels.forEach((p, i) => {
    const x0 = (i % cols) * W + pad.l, y0 = 30 + Math.floor(i / cols) * H + pad.t, pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
    const tmax = Math.max(1, ...p.series.t);
    const ymax = Math.max(1, ...Object.values(p.series.nodes).flat());
    const sx = (t: number) => x0 + (t / tmax) * pw, sy = (v: number) => y0 + ph - (v / ymax) * ph;
    svg += `<text x="${x0 + pw / 2}" y="${y0 - 12}" text-anchor="middle" font-size="13">${esc(p.title)}</text>`;
    svg += `<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`;
    for (let k = 0; k <= 4; k++) {
      const v = Math.round((ymax * k) / 4), t = Math.round((tmax * k) / 4);
      svg += `<text x="${x0 - 5}" y="${sy(v) + 4}" text-anchor="end">${v}</text><text x="${sx(t)}" y="${y0 + ph + 15}" text-anchor="middle">${t}</text>`;
    }
    svg += `<text x="${x0 + pw / 2}" y="${y0 + ph + 32}" text-anchor="middle">seconds under memhog on node 0</text>`;
    Object.entries(p.series.nodes).forEach(([node, vals], j) => {
      if (!vals.some((v) => v > 0)) return;
      const pts = vals.map((v, k) => `${sx(p.series.t[k]!).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
      svg += `<polyline points="${pts}" fill="none" stroke="${COLORS[j % COLORS.length]}" stroke-width="2"/>`;
      svg += `<text x="${x0 + pw - 5}" y="${y0 + 15 + 15 * j}" text-anchor="end" fill="${COLORS[j % COLORS.length]}">${esc(node)} pages</text>`;
    });
  });
  return svg + '</svg>';
}

export function chartPng(title: string, panels: Panel[], columns?: number): Buffer {
  return new Resvg(chartSvg(title, panels, columns), { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}
