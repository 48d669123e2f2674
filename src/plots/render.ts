import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../util/atomicWrite.js';

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Renders a Vega-Lite spec headless to `<base>.svg` and `<base>.png` (each written atomically); returns both paths. */
export async function renderPlot(spec: TopLevelSpec, base: string): Promise<{ svg: string; png: string }> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  await writeFileAtomic(`${base}.svg`, svg);
  await writeFileAtomic(`${base}.png`, png);
  return { svg: `${base}.svg`, png: `${base}.png` };
}
