/**
 * pdf.js, loaded only when a PDF card is on screen (this module is imported lazily), so the
 * app stays small for people who never receive a PDF. Scripting is never wired up (no
 * sandbox, no XFA), eval is off, and fonts are drawn as paths rather than loaded as web fonts,
 * so the page's strict CSP needs nothing beyond `script-src 'self'` for the worker.
 */
// The legacy build: the modern one calls methods only the newest browsers have (such as
// Map.prototype.getOrInsertComputed), and a patient's phone is often a few versions behind.
import { getDocument, GlobalWorkerOptions } from 'pdfjs-dist/legacy/build/pdf.mjs';
// Bundled by Vite into the app's own assets: the worker comes from this origin, never a CDN.
import workerUrl from 'pdfjs-dist/legacy/build/pdf.worker.min.mjs?url';

GlobalWorkerOptions.workerSrc = workerUrl;

/** Draws page 1 of the PDF at `url` into `canvas`, sharp at `cssWidth` CSS pixels wide. */
export async function renderFirstPage(
  url: string,
  canvas: HTMLCanvasElement,
  cssWidth: number,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store', signal });
  if (!res.ok) throw new Error(`The preview could not be loaded (${res.status}).`);
  const data = new Uint8Array(await res.arrayBuffer());
  const task = getDocument({
    data,
    isEvalSupported: false,
    enableXfa: false,
    disableFontFace: true,
    useSystemFonts: false,
    disableAutoFetch: true,
    stopAtErrors: false,
  });
  signal.addEventListener('abort', () => void task.destroy(), { once: true });
  const doc = await task.promise;
  try {
    const page = await doc.getPage(1);
    const base = page.getViewport({ scale: 1 });
    const ratio = window.devicePixelRatio || 1;
    const viewport = page.getViewport({ scale: (cssWidth / base.width) * ratio });
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    await page.render({ canvas, viewport }).promise;
  } finally {
    await doc.destroy();
  }
}
