import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) =>
  existsSync(p),
);

/**
 * Loads a page in headless Chromium (as probe.html in dir) and returns its DOM once loaded, and each
 * image's state: `<width>x<height>` when it decoded, else `broken`. A probe script (not part of the
 * page) records the states on the body.
 */
export function renderInChromium(html: string, dir: string): { dom: string; images: string[] } {
  const probe = join(dir, 'probe.html');
  const script = `<script>addEventListener('load', () => { document.body.setAttribute('data-images', [...document.images].map((i) => i.complete && i.naturalWidth > 0 ? i.naturalWidth + 'x' + i.naturalHeight : 'broken').join(' ')); });</script>`;
  writeFileSync(probe, html.replace('</body>', `${script}</body>`));
  const profile = mkdtempSync(join(tmpdir(), 'diffskim-chromium-'));
  try {
    const dom = execFileSync(
      CHROMIUM!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--virtual-time-budget=5000',
        '--dump-dom',
        `file://${probe}`,
      ],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return { dom, images: /data-images="([^"]*)"/.exec(dom)?.[1].split(' ') ?? [] };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Width x height of each PNG data URI of a page, from its IHDR chunk. */
export function embeddedPngSizes(html: string): string[] {
  return [...html.matchAll(/<img src="data:image\/png;base64,([^"]+)"/g)].map((m) => {
    const png = Buffer.from(m[1], 'base64');
    return `${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`;
  });
}
